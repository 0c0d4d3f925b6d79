import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/git-fixture.js';

// Issue 15's house rules (no source file over 300 lines, no function over 60), checked by
// scripts/function-sizes.mjs in `npm test` (`npm run sizes`). Here the script runs on probe trees
// to show it finds what is over a limit, and nothing that is at it.
const SCRIPT = join(REPO_ROOT, 'scripts/function-sizes.mjs');
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function sizes(files: Record<string, string>, ...flags: string[]): { code: number; output: string; root: string } {
  const root = mkdtempSync(join(tmpdir(), 'shipway-sizes-'));
  dirs.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  const run = spawnSync(process.execPath, [SCRIPT, ...flags, root], { encoding: 'utf8' });
  return { code: run.status ?? 1, output: `${run.stdout}${run.stderr}`, root };
}

/** A file of `count` lines, each one statement. */
const lines = (count: number, line = (index: number) => `export const v${index} = ${index};`) =>
  `${Array.from({ length: count }, (_, index) => line(index)).join('\n')}\n`;

/** A function declaration spanning `count` lines, braces included. */
const fn = (name: string, count: number) =>
  `export function ${name}(): number {\n  let n = 0;\n${'  n += 1;\n'.repeat(count - 4)}  return n;\n}\n`;

describe('code size (scripts/function-sizes.mjs)', () => {
  it("this repository's source is within the limits, apart from the allowlist, whose reasons it prints", () => {
    const run = spawnSync(process.execPath, [SCRIPT], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(run.status, run.stdout).toBe(0);
    for (const line of run.stdout.split('\n').filter((text) => /^(file|function) /.test(text)))
      expect(line).toMatch(/\(allowed: .+\)$/);
  });

  it('a 301-line file and a 61-line function fail it (exit 1), each listed with its size and place', () => {
    const result = sizes({
      'src/big.ts': lines(301),
      'src/deep/long.ts': `// one function too long\n${fn('tooLong', 61)}`,
      'src/long-arrow.ts': `export const arrow = () => {\n${'  void 0;\n'.repeat(59)}};\n`,
    });
    expect(result.code, result.output).toBe(1);
    expect(result.output).toContain(`file      301 lines  ${join(result.root, 'src/big.ts')}:1  (over 300)`);
    expect(result.output).toContain(
      `function   61 lines  ${join(result.root, 'src/deep/long.ts')}:2 tooLong  (over 60)`,
    );
    expect(result.output).toContain(
      `function   61 lines  ${join(result.root, 'src/long-arrow.ts')}:1 arrow  (over 60)`,
    );
  });

  it('a 300-line file and a 60-line function pass (exit 0) and are not listed; tests and .d.ts are not measured', () => {
    const result = sizes({
      'src/full.ts': `${fn('atLimit', 60)}${lines(240)}`,
      'src/huge.test.ts': lines(400),
      'src/huge.d.ts': lines(400, (index) => `export declare const v${index}: number;`),
    });
    expect(result.code, result.output).toBe(0);
    expect(result.output).toBe('');
  });

  it('--json lists the same findings for machines', () => {
    const result = sizes({ 'src/long.ts': fn('tooLong', 70) }, '--json');
    expect(result.code).toBe(1);
    expect(JSON.parse(result.output)).toEqual([
      { path: join(result.root, 'src/long.ts'), line: 1, kind: 'function', name: 'tooLong', lines: 70, allowed: null },
    ]);
  });
});
