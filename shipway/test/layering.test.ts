import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
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

// Issue 15: adapters/git is the one place that starts git, so its environment (GIT_ASKPASS,
// GIT_TERMINAL_PROMPT=0, the identity) is decided once. dependency-cruiser sees imports, not a
// program name passed to spawn, so this scan does it: a call that starts a program (runCommand,
// spawn, execFile, exec and their Sync forms) whose first argument is the string `git` or a path
// ending in /git. A program name held in a variable first is out of its reach.
const GIT_SPAWN =
  /\b(?:runCommand|spawn|spawnSync|execFile|execFileSync|exec|execSync)\s*\(\s*(['"`])(?:[^'"`]*\/)?git(?:\1|\s)/;
const GIT_ADAPTER = 'shipway/src/adapters/git/';

function gitSpawners(root: string): string[] {
  const src = join(root, 'shipway/src');
  return readdirSync(src, { recursive: true })
    .map((name) =>
      relative(root, join(src, String(name)))
        .split('\\')
        .join('/'),
    )
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts') && !file.startsWith(GIT_ADAPTER))
    .filter((file) => GIT_SPAWN.test(readFileSync(join(root, file), 'utf8')))
    .sort();
}

describe('only adapters/git starts git', () => {
  it("this repository's source starts git nowhere else", () => {
    expect(gitSpawners(REPO_ROOT)).toEqual([]);
  });

  it('the scan finds each way of starting git outside adapters/git, and nothing else', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shipway-git-spawn-'));
    dirs.push(dir);
    const files: Record<string, string> = {
      'shipway/src/app/run-command.ts': "await runCommand('git', ['status'], { cwd });\n",
      'shipway/src/app/multi-line.ts': "await runCommand(\n    'git',\n    ['-c', 'user.name=x'],\n);\n",
      'shipway/src/cli/spawn.ts': 'spawn("git", ["fetch"]);\n',
      'shipway/src/local/exec-file.ts': "execFileSync('/usr/bin/git', ['log']);\n",
      'shipway/src/app/exec.ts': 'exec(`git rev-parse HEAD`);\n',
      // Not git, or git through the adapter: allowed.
      'shipway/src/app/other-program.ts':
        "await runCommand('gitleaks', ['detect']);\nawait runCommand('npm', ['ci']);\n",
      'shipway/src/app/through-adapter.ts': "await runGit(['status']);\nconst dir = 'git';\n",
      'shipway/src/adapters/git/run-git.ts': "spawn('git', args);\n",
      'shipway/src/core/a.test.ts': "execFileSync('git', ['init']);\n",
    };
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    expect(gitSpawners(dir)).toEqual([
      'shipway/src/app/exec.ts',
      'shipway/src/app/multi-line.ts',
      'shipway/src/app/run-command.ts',
      'shipway/src/cli/spawn.ts',
      'shipway/src/local/exec-file.ts',
    ]);
  });
});
