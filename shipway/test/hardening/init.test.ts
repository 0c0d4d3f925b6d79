import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { existingState, writeRepositoryFile } from '../../src/adapters/files/repository-files.js';
import { runCli } from '../../src/cli/run-cli.js';
import { git } from '../support/git-fixture.js';
import { shipway } from '../support/run-shipway.js';

// Probes from a careless user and an attacker for `shipway init`, which writes into a repository
// it does not own: every refusal must leave the directory exactly as it was.

let root: string;
let repo: string;
let outside: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'shipway-init-hardening-'));
  repo = join(root, 'svc');
  outside = join(root, 'outside');
  mkdirSync(repo);
  mkdirSync(outside);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const EXPRESS = "const express = require('express');\nconst app = express();\napp.listen(8080);\n";

function service(packageJson: object | string = { name: 'svc', scripts: { start: 'node index.js' } }) {
  writeFileSync(
    join(repo, 'package.json'),
    typeof packageJson === 'string' ? packageJson : JSON.stringify(packageJson),
  );
  writeFileSync(join(repo, 'package-lock.json'), '{"lockfileVersion":3,"packages":{"":{}}}\n');
  writeFileSync(join(repo, 'index.js'), EXPRESS);
}

/** Every path under dir with its content (or link target), to prove a refusal changed nothing. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (path: string, rel: string) => {
    for (const name of readdirSync(path).sort()) {
      const full = join(path, name);
      const key = rel === '' ? name : `${rel}/${name}`;
      const info = lstatSync(full);
      if (info.isSymbolicLink()) out[key] = `-> ${readlinkSync(full)}`;
      else if (info.isDirectory()) walk(full, key);
      else out[key] = readFileSync(full, 'utf8');
    }
  };
  walk(dir, '');
  return out;
}

const init = (...args: string[]) => shipway(repo, ['init', '--yes', ...args]);

describe('shipway init refuses what is not a Node.js service (exit 2, nothing written)', () => {
  it('no package.json', async () => {
    writeFileSync(join(repo, 'README.md'), '# not a node project\n');
    const run = await init();
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /^shipway: no package.json in this directory: shipway init sets up a Node.js service\n {2}hint: run shipway init at the root/,
    );
    expect(tree(repo)).toEqual({ 'README.md': '# not a node project\n' });
  });

  it('a package.json that is not JSON names the parse error', async () => {
    service('{ "name": "svc", "scripts": { "start": "node index.js" }, }');
    const before = tree(repo);
    const run = await init();
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /^shipway: package.json is not valid JSON: .*double-quoted property name.*\n {2}hint: fix package.json/,
    );
    expect(tree(repo)).toEqual(before);
  });

  it('a package.json with wrong types lists each problem with its path', async () => {
    service({ name: ['svc'], scripts: { start: 7 } });
    const run = await init();
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('  - name: Invalid input: expected string, received array');
    expect(run.stderr).toContain('  - scripts.start: Invalid input: expected string, received number');
  });

  it('a service with no way to start it', async () => {
    writeFileSync(join(repo, 'package.json'), JSON.stringify({ name: 'svc', scripts: { start: 'nodemon' } }));
    const run = await init();
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('shipway: cannot tell how this service starts');
  });

  it.each([
    [['--port', 'eighty']],
    [['--port', '70000']],
    [['--name', 'Not_A_Label']],
    [['--name', '1abc']],
    [['--namespace-prefix', 'a'.repeat(60)]],
    [['--component', 'no-group']],
  ])('bad option %j', async (args) => {
    service();
    const before = tree(repo);
    const run = await init(...args);
    expect(run.code).toBe(2);
    expect(tree(repo)).toEqual(before);
  });
});

describe('on a terminal (no --yes), init asks only what it could not detect', () => {
  async function withAnswers(answers: Record<string, string>, ...args: string[]) {
    const asked: string[] = [];
    let stdout = '';
    let stderr = '';
    const code = await runCli(['init', ...args], {
      cwd: repo,
      env: { PATH: process.env.PATH ?? '' },
      stdout: (text) => {
        stdout += text;
      },
      stderr: (text) => {
        stderr += text;
      },
      ask: async (question) => {
        asked.push(question);
        return Object.entries(answers).find(([key]) => question.startsWith(key))?.[1] ?? '';
      },
    });
    return { code, stdout, stderr, asked };
  }

  it('the port (not in the source) and the Git URL (no remote); never the name it found', async () => {
    service();
    writeFileSync(join(repo, 'index.js'), 'require("./app").start();\n');
    const run = await withAnswers(
      { Port: '3000', 'Git URL': 'https://gitlab.example.com/team/svc.git' },
      '--dry-run',
      '--json',
    );
    expect(run.asked).toEqual([
      'Port the service listens on [8080]: ',
      'Git URL Argo CD reads this repository from (Enter: a placeholder): ',
    ]);
    const result = JSON.parse(run.stdout);
    expect([result.settings.port, result.settings.repoUrl, result.settings.app]).toEqual([
      3000,
      'https://gitlab.example.com/team/svc.git',
      'svc',
    ]);
  });

  it('a bad answer is bad input (exit 2, nothing written); --yes asks nothing', async () => {
    service();
    writeFileSync(join(repo, 'index.js'), '');
    const before = tree(repo);
    const bad = await withAnswers({ Port: 'eighty' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('shipway: "eighty" is not a port number');
    expect(tree(repo)).toEqual(before);
    const yes = await withAnswers({ Port: '3000' }, '--yes', '--dry-run');
    expect([yes.code, yes.asked]).toEqual([0, []]);
  });
});

describe('package names that are not DNS labels', () => {
  it('a scoped, mixed-case name with dots becomes an RFC 1035 label in every file', async () => {
    service({ name: '@Team/My_Service.v2', scripts: { start: 'node index.js' } });
    const run = await init();
    expect([run.code, run.stderr]).toEqual([0, '']);
    const config = parse(readFileSync(join(repo, 'shipway.yaml'), 'utf8'));
    expect(config.app).toBe('my-service-v2');
    expect(config.environments.map((env: { namespace: string }) => env.namespace)).toEqual([
      'my-service-v2-dev',
      'my-service-v2-stage',
      'my-service-v2-prod',
    ]);
    expect(run.stdout).toContain('app name my-service-v2 comes from package.json name "@Team/My_Service.v2"');
  });

  it('a name with nothing usable falls back to the directory name; with neither, asks for --name', async () => {
    service({ name: '___', scripts: { start: 'node index.js' } });
    expect((await init('--dry-run', '--json')).stdout).toContain('"app": {\n      "value": "svc"');
    const unnamed = join(root, '0_0');
    mkdirSync(unnamed);
    writeFileSync(join(unnamed, 'package.json'), JSON.stringify({ name: '123', main: 'index.js' }));
    const run = await shipway(unnamed, ['init', '--yes']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/cannot make an app name .*\n {2}hint: pass --name <app>/);
    expect(readdirSync(unnamed)).toEqual(['package.json']);
    expect((await shipway(unnamed, ['init', '--yes', '--name', 'named'])).code).toBe(0);
  });
});

describe('symlinks: init never writes through one, even with --force (exit 4, nothing written)', () => {
  it('shipway.yaml linked to a file outside the repository', async () => {
    service();
    const secret = join(outside, 'authorized_keys');
    writeFileSync(secret, 'ssh-ed25519 AAAA… admin\n');
    symlinkSync(secret, join(repo, 'shipway.yaml'));
    const before = tree(repo);
    for (const args of [[], ['--force']]) {
      const run = await init(...args);
      expect(run.code).toBe(4);
      expect(run.stderr).toContain('shipway: shipway init cannot write shipway.yaml: shipway.yaml is a symbolic link');
      expect(run.stderr).toContain('nothing was written');
      expect(readFileSync(secret, 'utf8')).toBe('ssh-ed25519 AAAA… admin\n');
      expect(tree(repo)).toEqual(before);
    }
  });

  it('deployment/ linked to a directory outside the repository', async () => {
    service();
    symlinkSync(outside, join(repo, 'deployment'));
    const run = await init('--force');
    expect(run.code).toBe(4);
    expect(run.stdout).toMatch(/blocked +deployment\/base\/rollout\.yaml +deployment is a symbolic link/);
    expect(readdirSync(outside)).toEqual([]);
    expect(existsSync(join(repo, 'shipway.yaml'))).toBe(false);
  });

  it('a dangling link planted at a path between plan and write: O_EXCL|O_NOFOLLOW refuses it', async () => {
    const target = join(outside, 'planted');
    symlinkSync(target, join(repo, 'shipway.yaml'));
    await expect(writeRepositoryFile(repo, 'shipway.yaml', 'app: x\n', false)).rejects.toMatchObject({
      code: 'EEXIST',
    });
    expect(existsSync(target)).toBe(false);
    // Replacing renames a new file over the path: the link goes, its target is never written.
    writeFileSync(target, 'outside\n');
    await writeRepositoryFile(repo, 'shipway.yaml', 'app: x\n', true);
    expect(readFileSync(target, 'utf8')).toBe('outside\n');
    expect(lstatSync(join(repo, 'shipway.yaml')).isSymbolicLink()).toBe(false);
    expect(await existingState(repo, 'shipway.yaml')).toEqual({ kind: 'file', content: 'app: x\n' });
  });

  it('a parent directory swapped for a link before the write is refused', async () => {
    symlinkSync(outside, join(repo, 'deployment'));
    await expect(writeRepositoryFile(repo, 'deployment/base/rollout.yaml', 'x', false)).rejects.toMatchObject({
      code: 'INIT_NOT_A_DIRECTORY',
    });
    expect(readdirSync(outside)).toEqual([]);
  });

  it('a source folder that links back to itself is not followed (no hang, no read outside)', async () => {
    service();
    mkdirSync(join(repo, 'src'));
    symlinkSync('..', join(repo, 'src', 'loop'));
    writeFileSync(join(outside, 'server.js'), 'app.listen(1234)');
    symlinkSync(join(outside, 'server.js'), join(repo, 'src', 'server.js'));
    const run = await init('--dry-run', '--json');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).settings.port).toBe(8080);
  });
});

describe('an existing deployment/ directory', () => {
  it('files of its own are left alone; init adds its files beside them', async () => {
    service();
    mkdirSync(join(repo, 'deployment', 'helm'), { recursive: true });
    writeFileSync(join(repo, 'deployment', 'helm', 'values.yaml'), 'replicas: 2\n');
    const run = await init();
    expect(run.code).toBe(0);
    expect(readFileSync(join(repo, 'deployment', 'helm', 'values.yaml'), 'utf8')).toBe('replicas: 2\n');
    expect(existsSync(join(repo, 'deployment', 'base', 'rollout.yaml'))).toBe(true);
  });

  it('a different file at one of its paths refuses the whole plan (exit 4) until --force, which overwrites only that', async () => {
    service();
    mkdirSync(join(repo, 'deployment', 'base'), { recursive: true });
    writeFileSync(join(repo, 'deployment', 'base', 'rollout.yaml'), '# ours\n');
    writeFileSync(join(repo, 'deployment', 'notes.md'), 'keep\n');
    const before = tree(repo);
    const refused = await init();
    expect(refused.code).toBe(4);
    expect(refused.stdout).toMatch(/would overwrite +deployment\/base\/rollout\.yaml +exists and differs/);
    expect(refused.stderr).toContain(
      'shipway: shipway init would overwrite 1 file that differs: deployment/base/rollout.yaml; nothing was written',
    );
    expect(tree(repo)).toEqual(before);
    const forced = await init('--force');
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/overwrite +deployment\/base\/rollout\.yaml/);
    expect(readFileSync(join(repo, 'deployment', 'base', 'rollout.yaml'), 'utf8')).toContain('kind: Rollout');
    expect(readFileSync(join(repo, 'deployment', 'notes.md'), 'utf8')).toBe('keep\n');
  });

  it('a directory where a file goes, or a file where a directory goes, is blocked', async () => {
    service();
    mkdirSync(join(repo, 'shipway.yaml'));
    writeFileSync(join(repo, 'deployment'), 'not a directory\n');
    const run = await init('--force');
    expect(run.code).toBe(4);
    expect(run.stdout).toMatch(/blocked +shipway\.yaml +something other than a file/);
    expect(run.stdout).toMatch(/blocked +deployment\/dev\/kustomization\.yaml/);
    expect(readFileSync(join(repo, 'deployment'), 'utf8')).toBe('not a directory\n');
  });
});

describe('outside data in the repository', () => {
  it('a token in the origin URL goes nowhere: not in the ApplicationSet, not in any file', async () => {
    service();
    git(repo, 'init', '--quiet');
    git(repo, 'remote', 'add', 'origin', 'https://deployer:glpat-SECRET123@gitlab.example.com/team/svc.git');
    const run = await init();
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('the origin remote URL carries credentials; they are left out of the ApplicationSet');
    const written = Object.entries(tree(repo)).filter(([path]) => !path.startsWith('.git/'));
    expect(written.filter(([, text]) => text.includes('SECRET123'))).toEqual([]);
    const appset = parse(readFileSync(join(repo, 'deployment/argocd/applicationset.yaml'), 'utf8'));
    expect(appset.spec.template.spec.source.repoURL).toBe('https://gitlab.example.com/team/svc.git');
    expect(readFileSync(join(repo, '.gitlab-ci.yml'), 'utf8')).toContain(
      'component: $CI_SERVER_FQDN/team/shipway/deliver@0.1.0',
    );
  });

  it('a file name that is YAML stays one build input, and the image never ships a .env', async () => {
    service();
    writeFileSync(join(repo, 'x\nbuild: {inputs: [..]}'), '');
    writeFileSync(join(repo, '.env'), 'DB_PASSWORD=hunter2\n');
    expect((await init()).code).toBe(0);
    const config = parse(readFileSync(join(repo, 'shipway.yaml'), 'utf8'));
    expect(config.build.inputs).toEqual(['index.js', 'package-lock.json', 'package.json', 'x\nbuild: {inputs: [..]}']);
    expect((await shipway(repo, ['validate', 'dev'])).code).toBe(0);
  });

  it('a huge or hostile source file: oversized files are skipped, an impossible port is ignored', async () => {
    service();
    writeFileSync(join(repo, 'index.js'), `app.listen(99999);\n// ${'x'.repeat(1024)}\n`);
    writeFileSync(join(repo, 'big.js'), `const PORT = 4000;\n${'/'.repeat(600 * 1024)}\n`);
    const run = await init('--dry-run', '--json');
    const result = JSON.parse(run.stdout);
    expect(result.settings.port).toBe(8080);
    expect(result.notes).toContain(
      'no port found in the source (listen(<n>), PORT ?? <n>, PORT || <n>): assumed 8080; the manifests set PORT=8080, so read process.env.PORT or pass --port',
    );
  });
});
