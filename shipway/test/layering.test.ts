import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/git-fixture.js';

// The layering rules in .dependency-cruiser.cjs (conventions.md, "The layout shows the
// architecture"), run by `npm test` with the depcruise CLI. Here they run on a small tree of
// probe files, one forbidden import each, to show every rule fires.
const DEPCRUISE = join(REPO_ROOT, 'node_modules/.bin/depcruise');
const CONFIG = join(REPO_ROOT, '.dependency-cruiser.cjs');
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function cruise(files: Record<string, string>): { code: number; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'shipway-layering-'));
  dirs.push(dir);
  const all: Record<string, string> = {
    'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext' } }),
    'shipway/src/core/ok.ts': 'export const ok = 1;\n',
    ...files,
  };
  for (const [path, text] of Object.entries(all)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  const run = spawnSync(DEPCRUISE, ['shipway/src', '--config', CONFIG], { cwd: dir, encoding: 'utf8' });
  return { code: run.status ?? 1, output: `${run.stdout}${run.stderr}` };
}

describe('layering (dependency-cruiser)', () => {
  it("this repository's source has no violation", () => {
    const output = execFileSync(DEPCRUISE, ['shipway/src', '--config', CONFIG], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(output).toContain('no dependency violations found');
  });

  it.each([
    ['core-imports-only-core', { 'shipway/src/core/a.ts': "import { x } from '../app/x.js';\nexport const a = x;\n" }],
    [
      'core-is-pure',
      { 'shipway/src/core/a.ts': "import { readFileSync } from 'node:fs';\nexport const a = readFileSync;\n" },
    ],
    [
      'adapters-import-only-core-and-adapters',
      { 'shipway/src/adapters/git/a.ts': "import { x } from '../../app/x.js';\nexport const a = x;\n" },
    ],
    [
      'local-imports-only-core-and-adapters',
      { 'shipway/src/local/cluster/a.ts': "import { x } from '../../app/x.js';\nexport const a = x;\n" },
    ],
    ['app-does-not-import-cli', { 'shipway/src/app/a.ts': "import { x } from '../cli/x.js';\nexport const a = x;\n" }],
    [
      'no-cycles',
      {
        'shipway/src/core/a.ts': "import { b } from './b.js';\nexport const a = () => b;\n",
        'shipway/src/core/b.ts': "import { a } from './a.js';\nexport const b = () => a;\n",
      },
    ],
  ])('a forbidden import fails the check: %s', (rule, files) => {
    const targets = {
      'shipway/src/app/x.ts': 'export const x = 1;\n',
      'shipway/src/cli/x.ts': 'export const x = 1;\n',
    };
    const result = cruise({ ...targets, ...files });
    expect(result.code, result.output).not.toBe(0);
    expect(result.output).toContain(`error ${rule}:`);
  });

  it('allowed imports pass: core on zod and node:crypto, adapters on core and adapters, app on local, cli on app', () => {
    const result = cruise({
      'shipway/src/core/a.ts': "import { createHash } from 'node:crypto';\nexport const a = createHash;\n",
      'shipway/src/adapters/process/run.ts': "import { ok } from '../../core/ok.js';\nexport const run = ok;\n",
      'shipway/src/adapters/git/git.ts': "import { run } from '../process/run.js';\nexport const git = run;\n",
      'shipway/src/local/cluster/c.ts': "import { git } from '../../adapters/git/git.js';\nexport const c = git;\n",
      'shipway/src/app/use.ts': "import { c } from '../local/cluster/c.js';\nexport const use = c;\n",
      'shipway/src/cli/main.ts': "import { use } from '../app/use.js';\nexport const main = use;\n",
    });
    expect(result.code, result.output).toBe(0);
  });
});
