import { describe, expect, it } from 'vitest';
import { formatImageRef, parseImageRef } from './image-ref.js';

const D = `sha256:${'ab'.repeat(32)}`;

describe('parseImageRef', () => {
  it.each([
    ['hello', { repository: 'hello', tag: null, digest: null }],
    ['127.0.0.1:5000/hello:v1', { repository: '127.0.0.1:5000/hello', tag: 'v1', digest: null }],
    [
      `1234.dkr.ecr.ap-northeast-2.amazonaws.com/team/hello:553640e6@${D}`,
      { repository: '1234.dkr.ecr.ap-northeast-2.amazonaws.com/team/hello', tag: '553640e6', digest: D },
    ],
    [`localhost:5000/a/b@${D}`, { repository: 'localhost:5000/a/b', tag: null, digest: D }],
  ])('%s', (text, expected) => {
    expect(parseImageRef(text)).toEqual(expected);
    expect(formatImageRef(expected)).toBe(text);
  });

  it.each([
    ['team/Upper', /bad repository/],
    ['repo:tag with space', /bad tag/],
    [`repo:${'x'.repeat(129)}`, /bad tag/],
    ['repo@sha256:abc', /bad digest/],
    [`repo@sha256:${'A'.repeat(64)}`, /bad digest/],
    ['', /bad repository/],
  ])('rejects %s', (text, message) => {
    expect(() => parseImageRef(text)).toThrow(message);
  });
});
