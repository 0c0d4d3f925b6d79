import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/git-fixture.js';

// The vendored test data is what vendored.json says it is: every listed file has its recorded
// sha256 and a source, and no file sits in the folder unlisted (a refresh is always deliberate).
const FIXTURES = join(REPO_ROOT, 'shipway/test/fixtures');

interface Entry {
  path: string;
  source: string;
  license: string;
  sha256: string;
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? walk(join(dir, entry.name)) : [relative(FIXTURES, join(dir, entry.name))],
  );
}

describe('vendored test data', () => {
  const { files } = JSON.parse(readFileSync(join(FIXTURES, 'vendored.json'), 'utf8')) as { files: Entry[] };

  it.each(files.map((entry) => [entry.path, entry]))('%s has its recorded sha256 and a source', (_path, entry) => {
    const bytes = readFileSync(join(FIXTURES, entry.path));
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(entry.sha256);
    expect(entry.source.length).toBeGreaterThan(10);
    expect(entry.license.length).toBeGreaterThan(2);
  });

  it('every file in a vendored folder is listed', () => {
    const listed = new Set(files.map((entry) => entry.path));
    const folders = new Set(files.map((entry) => entry.path.split('/')[0] ?? ''));
    const present = [...folders].flatMap((folder) => walk(join(FIXTURES, folder)));
    expect(present.length).toBeGreaterThanOrEqual(listed.size);
    expect(present.filter((path) => !listed.has(path))).toEqual([]);
  });

  // Built from parts so that this file does not match itself.
  const OUTSIDE = new RegExp(['\\.\\.', 'shared\\b'].join('/+'));

  it('no test, bench or source file names the team folder beside the repository', () => {
    const tests = walk(join(REPO_ROOT, 'shipway/test')).length;
    expect(tests).toBeGreaterThan(0);
    for (const dir of ['shipway/test', 'shipway/src', 'service', 'bench']) {
      for (const file of readdirSync(join(REPO_ROOT, dir), { recursive: true, encoding: 'utf8' })) {
        if (!/\.(ts|mjs|js)$/.test(file) || file.includes('node_modules') || file.includes('dist/')) continue;
        const text = readFileSync(join(REPO_ROOT, dir, file), 'utf8');
        expect(OUTSIDE.test(text), `${dir}/${file}`).toBe(false);
      }
    }
  });
});
