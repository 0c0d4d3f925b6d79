import { execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopCluster } from '../../src/app/cluster.js';
import { clusterAccess } from '../../src/app/cluster-access.js';
import { environmentSummary } from '../../src/app/environment-summary.js';
import { loadShipwayConfig } from '../../src/app/load-config.js';
import { appRecordOf } from '../../src/core/stack/app-record.js';
import { registerApp } from '../../src/local/cluster/app-records.js';
import { git, REPO_ROOT } from '../support/git-fixture.js';
import { shipway } from '../support/run-shipway.js';

// Probes of the per-user local stack (SHIPWAY_HOME) by a careless user and by another user of
// the machine: two `shipway run` racing to start it, a stack killed with SIGKILL and a state file
// naming a live process that is not the cluster, a home that is not the user's or that others
// may write to, hostile app records, an overlay writing into another app's namespace, an app
// named like another's namespace, and registrations racing for one namespace.
type Json = Record<string, unknown>;
const root = mkdtempSync(join(tmpdir(), 'shipway-hardening-stack-'));
const homes: string[] = [];
const DEV_ONLY = (app: string, namespace: string) => `app: ${app}
image: { name: hello-service, repository: "127.0.0.1:5000/${app}" }
build: { inputs: [src] }
environments:
  - { name: dev, branch: dev, overlay: deployment/dev, namespace: ${namespace}, rollout: { name: hello, strategy: rolling } }
`;

/** A service repository with this repository's dev overlay, as app `app` in namespace `namespace`. */
function repository(name: string, app: string, namespace: string, overlayNamespace = namespace): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  execFileSync('cp', ['-r', join(REPO_ROOT, 'deployment'), dir]);
  const overlay = join(dir, 'deployment/dev/kustomization.yaml');
  writeFileSync(
    overlay,
    readFileSync(overlay, 'utf8').replace('namespace: hello-dev', `namespace: ${overlayNamespace}`),
  );
  writeFileSync(join(dir, 'shipway.yaml'), DEV_ONLY(app, namespace));
  git(dir, 'init', '--quiet', '--initial-branch=main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '--quiet', '-m', 'initial');
  return dir;
}

function home(name: string): string {
  const dir = join(root, name);
  homes.push(dir);
  return dir;
}

const contextOf = (cwd: string, shipwayHome: string) => ({
  cwd,
  env: { ...process.env, SHIPWAY_HOME: shipwayHome },
  progress: () => {},
});

/** ensureLocalStack from dist: the stack starts `cluster up` as a process of the built CLI beside it. */
async function ensure(cwd: string, shipwayHome: string) {
  // A computed path: the type-check (which CI's build job runs before shipway is built) reads src.
  const built = pathToFileURL(join(REPO_ROOT, 'shipway', 'dist', 'app', 'local-stack.js')).href;
  const { ensureLocalStack } = (await import(built)) as typeof import('../../src/app/local-stack.js');
  const context = contextOf(cwd, shipwayHome);
  return ensureLocalStack(context, await loadShipwayConfig(context));
}

/** The same as a separate process (two `shipway run` in two terminals). */
function ensureInProcess(cwd: string, shipwayHome: string) {
  const dist = join(REPO_ROOT, 'shipway', 'dist', 'app');
  const script = `const { ensureLocalStack } = await import(${JSON.stringify(join(dist, 'local-stack.js'))});
const { loadShipwayConfig } = await import(${JSON.stringify(join(dist, 'load-config.js'))});
const context = { cwd: process.cwd(), env: process.env, progress: () => {} };
const stack = await ensureLocalStack(context, await loadShipwayConfig(context));
console.log(JSON.stringify(stack));`;
  return new Promise<Json>((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      cwd,
      env: { ...process.env, SHIPWAY_HOME: shipwayHome },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('close', (code) => (code === 0 ? resolve(JSON.parse(stdout)) : reject(new Error(stderr))));
  });
}

/** Processes serving a cluster for this state dir, whatever started them. */
function clusterProcesses(stateDir: string): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        return argv.includes('up') && argv.includes(stateDir);
      } catch {
        return false;
      }
    })
    .map(Number);
}

beforeAll(() => {
  // The build the stack runs from must be the code under test.
  execFileSync('npx', ['tsc', '-b', 'shipway'], { cwd: REPO_ROOT });
}, 120_000);

afterAll(async () => {
  for (const dir of homes)
    if (existsSync(join(dir, 'cluster', 'cluster.json')))
      await stopCluster(contextOf(root, dir), {}).catch(() => undefined);
  rmSync(root, { recursive: true, force: true });
}, 120_000);

describe('two `shipway run` at once in two repositories', () => {
  it('start exactly one stack; both apps are followed by it', async () => {
    const shared = home('racing');
    const [a, b] = [repository('race-a', 'race-a', 'race-a-dev'), repository('race-b', 'race-b', 'race-b-dev')];
    const stacks = await Promise.all([ensureInProcess(a, shared), ensureInProcess(b, shared)]);
    expect(stacks[0]?.pid).toBe(stacks[1]?.pid);
    expect(stacks.filter((stack) => stack.started === true)).toHaveLength(1);
    expect(clusterProcesses(join(shared, 'cluster'))).toEqual([stacks[0]?.pid]);
    const status = await shipway(root, ['cluster', 'status', '--json'], { SHIPWAY_HOME: shared });
    expect(JSON.parse(status.stdout).apps.map((app: Json) => [app.app, app.error])).toEqual([
      ['race-a', null],
      ['race-b', null],
    ]);
    // The next run reuses the stack, and summarises only its own app.
    const again = await ensure(a, shared);
    expect([again.started, again.pid]).toEqual([false, stacks[0]?.pid]);
    const summary = await environmentSummary(clusterAccess(again.kubeconfig), {}, 0, 'race-a');
    expect(summary.map((entry) => [entry.environment, entry.phase])).toEqual([['dev', 'NotSynced']]);
  }, 120_000);
});

describe('a stale stack', () => {
  it('killed with SIGKILL: the next run starts a new one in its place (its lock and state are stale)', async () => {
    const dir = home('killed');
    const repo = repository('killed-repo', 'killed', 'killed-dev');
    const first = await ensure(repo, dir);
    process.kill(first.pid, 'SIGKILL');
    for (let i = 0; i < 50 && clusterProcesses(join(dir, 'cluster')).length > 0; i += 1)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect(readFileSync(join(dir, 'cluster', 'cluster.lock'), 'utf8')).toContain(`"pid":${first.pid}`);
    const second = await ensure(repo, dir);
    expect(second.started).toBe(true);
    expect(second.pid).not.toBe(first.pid);
    expect(clusterProcesses(join(dir, 'cluster'))).toEqual([second.pid]);
  }, 120_000);

  it('a state file naming a live process that is not the cluster (a reused pid) is not taken for a running stack', async () => {
    const dir = home('reused-pid');
    const repo = repository('reused-repo', 'reused', 'reused-dev');
    mkdirSync(join(dir, 'cluster'), { recursive: true, mode: 0o700 });
    // This test process is alive, but it did not start at this time: not the cluster it names.
    const forged = { pid: process.pid, process: { startTime: '1', bootId: 'x' }, api: 'https://127.0.0.1:1', urls: {} };
    writeFileSync(join(dir, 'cluster', 'cluster.json'), JSON.stringify(forged));
    writeFileSync(join(dir, 'cluster', 'cluster.lock'), JSON.stringify({ ...forged, purpose: 'cluster' }));
    const stack = await ensure(repo, dir);
    expect(stack.started).toBe(true);
    expect(stack.pid).not.toBe(process.pid);
  }, 120_000);
});

describe('a stack whose state files were damaged', () => {
  it('`shipway run` with a registry.json that is not an address: exit 3 naming the file, no cluster started', async () => {
    const dir = home('damaged');
    const repo = repository('damaged-repo', 'damaged', 'damaged-dev');
    mkdirSync(join(dir, 'cluster'), { recursive: true, mode: 0o700 });
    writeFileSync(join(dir, 'cluster', 'registry.json'), 'null');
    const run = await shipway(repo, ['run', '--yes'], { SHIPWAY_HOME: dir });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`${join(dir, 'cluster', 'registry.json')} is not the state \`cluster up\` writes`);
    expect(clusterProcesses(join(dir, 'cluster'))).toEqual([]);
    expect(existsSync(join(dir, 'cluster', 'cluster.json'))).toBe(false);
  }, 120_000);
});

describe("another user's SHIPWAY_HOME, or one others may write to", () => {
  const root0 = process.getuid?.() === 0;
  it.each([
    ['foreign', "belongs to another user (not as root: '/')", /belongs to uid \d+, not to you/],
    ['open', 'is writable by every user (0777)', /is writable by other users \(mode 777\)/],
    ['link', "is a symlink to another user's directory", /belongs to uid \d+, not to you/],
  ])(
    '%s: a home that %s is refused (exit 4), nothing written there',
    async (kind, _what, message) => {
      let target = home(`unsafe-${kind}`);
      mkdirSync(target, { mode: 0o700 });
      if (kind !== 'open') {
        if (root0) chownSync(target, 65534, 65534);
        else target = '/';
      } else chmodSync(target, 0o777);
      const shipwayHome = kind === 'link' ? join(root, 'unsafe-link-home') : target;
      if (kind === 'link') symlinkSync(target, shipwayHome);
      const before = readdirSync(target);
      const repo = repository(`unsafe-repo-${kind}`, 'unsafe', 'unsafe-dev');
      const status = await shipway(repo, ['cluster', 'status'], { SHIPWAY_HOME: shipwayHome });
      expect(status.code).toBe(4);
      expect(status.stderr).toMatch(message);
      expect(status.stderr).toContain('set SHIPWAY_HOME to a directory of your own');
      await expect(ensure(repo, shipwayHome)).rejects.toMatchObject({ code: 'STACK_HOME_UNSAFE' });
      expect(readdirSync(target)).toEqual(before);
    },
    60_000,
  );

  it('a home that is only readable by others (0755, as mkdir -p makes it) is narrowed to 0700', async () => {
    const dir = home('narrowed');
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    await ensure(repository('narrowed-repo', 'narrowed', 'narrowed-dev'), dir);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'cluster')).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'cluster', 'kubeconfig')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'gitlab')).mode & 0o777).toBe(0o700);
  }, 120_000);

  it('a relative SHIPWAY_HOME (a different stack in every directory) is refused', async () => {
    const result = await shipway(root, ['cluster', 'status'], { SHIPWAY_HOME: 'stack' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/SHIPWAY_HOME must be an absolute path/);
  });
});

describe('apps that reach for what is not theirs', () => {
  let shared: string;
  let owner: string;
  beforeAll(async () => {
    shared = home('apps');
    owner = repository('owner', 'owner', 'owner-dev');
    await ensure(owner, shared);
  }, 120_000);

  const apps = async () =>
    JSON.parse((await shipway(root, ['cluster', 'status', '--json'], { SHIPWAY_HOME: shared })).stdout).apps as Json[];

  it("an app named like another's namespace, wanting that namespace: refused by `shipway run`, no marker left", async () => {
    const squatter = repository('squatter', 'owner-dev', 'owner-dev');
    await expect(ensure(squatter, shared)).rejects.toMatchObject({
      code: 'NAMESPACE_TAKEN',
      message:
        "namespace owner-dev (environment dev of app owner-dev) is not permitted: it is app owner's (environment dev)",
    });
    expect(existsSync(join(squatter, '.shipway', 'local-stack.json'))).toBe(false);
    const twin = repository('twin', 'owner', 'twin-dev');
    await expect(ensure(twin, shared)).rejects.toMatchObject({ code: 'APP_NAME_TAKEN' });
  }, 60_000);

  it('registrations racing for one namespace: exactly one of each pair is written', async () => {
    const base = await loadShipwayConfig(contextOf(owner, shared));
    const record = (app: string, namespace: string) =>
      appRecordOf(
        { ...base, app, environments: [{ ...(base.environments[0] as (typeof base.environments)[0]), namespace }] },
        { key: `${app}-0123456789ab`, remote: '/nowhere.git', checkout: root, registeredAt: new Date().toISOString() },
      );
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => [
        registerApp(join(shared, 'cluster'), record(`left-${i}`, `race-${i}`)),
        registerApp(join(shared, 'cluster'), record(`right-${i}`, `race-${i}`)),
      ]).flat(),
    );
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(8);
    const written = readdirSync(join(shared, 'cluster', 'apps')).filter((file) => /^(left|right)-/.test(file));
    expect(written).toHaveLength(8);
    for (let i = 0; i < 8; i += 1)
      expect(written.filter((file) => file.endsWith(`-${i}-0123456789ab.json`))).toHaveLength(1);
    for (const file of written) rmSync(join(shared, 'cluster', 'apps', file));
  }, 60_000);

  it("hostile record files (a symlink, a huge one, a lying key, another app's namespace by hand): not followed, said why; the owner's app keeps running", async () => {
    const dir = join(shared, 'cluster', 'apps');
    symlinkSync('/etc/passwd', join(dir, 'link-000000000000.json'));
    writeFileSync(join(dir, 'huge-000000000000.json'), 'x'.repeat(200_000));
    const mine = JSON.parse(
      readFileSync(join(dir, readdirSync(dir).find((file) => file.startsWith('owner-')) ?? ''), 'utf8'),
    );
    writeFileSync(join(dir, 'liar-000000000000.json'), JSON.stringify({ ...mine, key: '../../etc' }));
    // Written by hand, past registerApp's check: the cluster refuses it itself.
    writeFileSync(
      join(dir, 'byhand-000000000000.json'),
      JSON.stringify({ ...mine, key: 'byhand-000000000000', app: 'byhand', registeredAt: '2000-01-01T00:00:00Z' }),
    );
    let seen: Json[] = [];
    for (let i = 0; i < 40; i += 1) {
      seen = await apps();
      if (seen.filter((app) => app.error !== null).length >= 4) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const errors = seen.map((app) => String(app.error));
    expect(seen.find((app) => app.app === 'owner')).toMatchObject({ error: null });
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/invalid app record link-000000000000\.json: not a regular file/),
        expect.stringMatching(/invalid app record huge-000000000000\.json: larger than 65536 bytes/),
        expect.stringMatching(/invalid app record liar-000000000000\.json: key: must be \[a-z0-9-\]/),
        expect.stringMatching(
          /namespace owner-dev \(environment dev of app byhand\) is not permitted.*NAMESPACE_TAKEN/,
        ),
      ]),
    );
    for (const file of ['link', 'huge', 'liar', 'byhand']) rmSync(join(dir, `${file}-000000000000.json`));
  }, 60_000);

  it("an overlay that names another app's namespace: not applied, the sync says why", async () => {
    const intruder = repository('intruder', 'intruder', 'intruder-dev', 'owner-dev');
    const stack = await ensure(intruder, shared);
    // A pinned image, so that without the check the Rollout would be applied into owner-dev.
    const overlay = join(intruder, 'deployment/dev/kustomization.yaml');
    writeFileSync(
      overlay,
      `${readFileSync(overlay, 'utf8')}images:\n  - name: hello-service\n    newName: 127.0.0.1:5000/intruder\n    digest: sha256:${'a'.repeat(64)}\n`,
    );
    git(intruder, 'commit', '--quiet', '-am', 'pin');
    git(intruder, 'push', '--quiet', stack.remote, 'HEAD:refs/heads/dev');
    let error = '';
    for (let i = 0; i < 60 && error === ''; i += 1) {
      const status = JSON.parse(
        (await shipway(root, ['cluster', 'status', '--json'], { SHIPWAY_HOME: shared })).stdout,
      );
      error = status.environments.find((env: Json) => env.app === 'intruder')?.sync?.error ?? '';
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(error).toBe('namespace owner-dev is not permitted: environment dev deploys into intruder-dev only');
    const listed = await clusterAccess(stack.kubeconfig).get(
      '/apis/argoproj.io/v1alpha1/namespaces/owner-dev/rollouts',
      5000,
    );
    expect((listed.body as { items: unknown[] }).items).toEqual([]);
  }, 60_000);
});
