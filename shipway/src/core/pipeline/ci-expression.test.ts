import { RE2JS } from 're2js';
import { describe, expect, it } from 'vitest';
import { compileRegex } from './ci-expression.js';

// compileRegex matches plain-text patterns as text and leaves the rest to RE2; both must give
// RE2's answer (GitLab's engine) on every input, anchors and escapes included.
describe('compileRegex: plain-text patterns match exactly as RE2 matches them', () => {
  const patterns = [
    'main',
    '^main$',
    '^release-',
    '-rc$',
    '\\[skip ci\\]',
    '^v1\\.2',
    'a\\$',
    '^\\^x',
    '\\/path\\/',
    'issue #1, "quoted" <tag>=~!',
    '',
    '^$',
  ];
  const inputs = [
    'main',
    'mainline',
    'x-main',
    'release-1',
    'v1-rc',
    'fix [skip ci] now',
    'v1.2.3',
    'v1x2',
    'a$',
    'ab',
    '^x',
  ];
  const more = ['/path/to', 'issue #1, "quoted" <tag>=~!', '', 'main\n', '\nmain', 'Main'];

  for (const pattern of patterns)
    it(`/${pattern}/`, () => {
      const ours = compileRegex(pattern, '');
      const re2 = RE2JS.compile(pattern);
      for (const input of [...inputs, ...more]) expect([input, ours.test(input)]).toEqual([input, re2.test(input)]);
    });

  it('patterns with operators, classes or flags go to RE2', () => {
    expect(compileRegex('^v\\d+$', '').test('v12')).toBe(true);
    expect(compileRegex('^MAIN$', 'i').test('main')).toBe(true);
    expect(compileRegex('^b$', 'm').test('a\nb')).toBe(true);
    expect(() => compileRegex('(?=a)', '')).toThrow(/invalid regex/);
  });
});
