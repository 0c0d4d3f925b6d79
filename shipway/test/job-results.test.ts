import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findResult, keepResult, pruneResults } from '../src/app/job-results.js';

// app/job-results.ts: the store of SHIPWAY_REUSE results in the project's caches.
const root = mkdtempSync(join(tmpdir(), 'shipway-job-results-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('job results', () => {
  it('keeps a result with its dotenv and artifacts, and finds it again by key', () => {
    const results = join(root, 'kept');
    const artifacts = join(root, 'artifacts');
    mkdirSync(join(artifacts, 'dist'), { recursive: true });
    writeFileSync(join(artifacts, 'dist', 'app.js'), 'console.log(1);\n');
    const entries = [
      { path: 'dist', type: 'dir' as const },
      { path: 'dist/app.js', type: 'file' as const, size: 16, mtimeMs: 0, mode: 0o644 },
    ];
    keepResult(results, 'k1', {
      job: 'build',
      pipeline: 7,
      ref: 'dev',
      sha: 'a'.repeat(40),
      dotenv: new Map([['IMAGE', 'v1']]),
      artifacts: { dir: artifacts, entries },
    });
    const found = findResult(results, 'k1');
    expect(found).toMatchObject({ job: 'build', pipeline: 7, ref: 'dev' });
    expect(Object.fromEntries(found?.dotenv ?? [])).toEqual({ IMAGE: 'v1' });
    expect(found?.artifacts?.entries.map((entry) => entry.path)).toEqual(['dist', 'dist/app.js']);
    expect(findResult(results, 'k2')).toBeUndefined();
  });

  it('a store with more results than it keeps loses the oldest first', () => {
    const results = join(root, 'many');
    for (let index = 0; index < 6; index++) {
      const dir = join(results, `key-${index}`);
      mkdirSync(dir, { recursive: true });
      const at = new Date(Date.UTC(2026, 0, 1 + index));
      utimesSync(dir, at, at);
    }
    pruneResults(results, 2);
    expect(readdirSync(results).filter((name) => !name.startsWith('.'))).toEqual(['key-4', 'key-5']);
  });
});
