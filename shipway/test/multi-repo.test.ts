import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git, REPO_ROOT } from './support/git-fixture.js';
import { lockfile, packAndInstall, type Run, run, service, write } from './support/init-services.js';

// Issue 13, "what must be shown" 1 and 2: shipway packed once and installed from the tarball in
// two services written here, an Express 4 app like the original and a TypeScript Fastify app
// with a build step and its own answer; `npx shipway init --yes` in each, a commit, and
// `npx shipway run --yes` in each, one after the other, against ONE local stack (this file's
// SHIPWAY_HOME). Then, in the same checkout: `shipway status` reads what the run pushed, and
// `shipway rollback prod` rolls a canary back, with the cluster following it.
const SLOW = { timeout: 900_000 };
const ORDERS_ANSWER = '{"service":"orders","status":"open"}';

interface Environment {
  environment: string;
  url: string;
  image: string | null;
  digest: string | null;
  phase: string;
}
interface RunJson {
  status: string;
  pipelines: {
    ref: string;
    status: string;
    jobs: { name: string; status: string; log: string; reused?: { ref: string } }[];
  }[];
  environments: Environment[];
  registry: string;
}
interface ClusterJson {
  apps: { app: string; error: string | null }[];
  environments: (Environment & { app: string; namespace: string })[];
}

let root: string;
let home: string;
const apps = { express: '', orders: '' };
const runs: RunJson[] = [];
const first: Record<string, RunJson> = {};

const npx = (cwd: string, ...args: string[]): Promise<Run> =>
  run(cwd, 'npx', ['--no-install', 'shipway', ...args], { SHIPWAY_HOME: home });
/** The installed package's CLI from anywhere (outside a service, npx would look shipway up on npm). */
const cli = (...args: string[]): Promise<Run> =>
  run(root, process.execPath, [join(root, 'shared', 'node_modules', 'shipway', 'bin', 'shipway.js'), ...args], {
    SHIPWAY_HOME: home,
  });

async function pipeline(cwd: string, ...args: string[]): Promise<RunJson> {
  const result = await npx(cwd, 'run', '--json', ...args);
  if (result.stdout === '') throw new Error(`shipway run exited ${result.code}: ${result.stderr}`);
  const parsed = JSON.parse(result.stdout) as RunJson;
  runs.push(parsed);
  return parsed;
}

const envOf = (result: { environments: Environment[] }, name: string) =>
  result.environments.find((entry) => entry.environment === name);

async function clusterStatus(): Promise<ClusterJson> {
  const result = await cli('cluster', 'status', '--json');
  if (result.code !== 0) throw new Error(result.stderr);
  return JSON.parse(result.stdout) as ClusterJson;
}

const EXPRESS_APP = `const express = require('express');

const app = express();
app.get('/', (req, res) => res.type('text/plain').send('Hello world'));
const port = process.env.PORT || 8080;
app.listen(port, () => console.log(\`listening on \${port}\`));
`;

const ORDERS_APP = `import Fastify from 'fastify';

const app = Fastify({ logger: true });
app.get('/', async () => ({ service: 'orders', status: 'open' }));
app.get('/healthz', async () => ({ status: 'ok' }));
app.get('/readyz', async () => ({ status: 'ready' }));

const port = Number(process.env.PORT ?? 3000);
await app.listen({ port, host: process.env.HOST ?? '0.0.0.0' });
`;

const GITIGNORE = 'node_modules/\ndist/\n.shipway/\n';

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'shipway-multi-repo-'));
  home = join(root, 'shipway-home');
  const tarball = await packAndInstall(root, REPO_ROOT);
  const dev = { shipway: `file:${tarball}` };
  apps.express = service(
    root,
    'hello-express',
    {
      'package.json': JSON.stringify({
        name: 'hello-express',
        version: '1.0.0',
        main: 'index.js',
        scripts: { start: 'node index.js' },
        dependencies: { express: '^4.21.2' },
        devDependencies: dev,
      }),
      'index.js': EXPRESS_APP,
      '.gitignore': GITIGNORE,
    },
    'https://gitlab.example.com/acme/hello-express.git',
  );
  apps.orders = service(
    root,
    'orders-api',
    {
      'package.json': JSON.stringify({
        name: 'orders-api',
        version: '2.1.0',
        type: 'module',
        main: 'dist/server.js',
        scripts: { build: 'tsc', start: 'node dist/server.js' },
        dependencies: { fastify: '^5.0.0' },
        devDependencies: { ...dev, typescript: '^5.0.0', '@types/node': '^20.0.0' },
      }),
      'tsconfig.json': JSON.stringify({
        compilerOptions: { outDir: 'dist', rootDir: 'src', module: 'nodenext', target: 'es2022', strict: true },
      }),
      'src/server.ts': ORDERS_APP,
      '.gitignore': GITIGNORE,
    },
    'git@gitlab.example.com:acme/orders-api.git',
  );
  for (const dir of [apps.express, apps.orders]) {
    await lockfile(dir);
    const init = await npx(dir, 'init', '--yes');
    if (init.code !== 0) throw new Error(`shipway init in ${dir}: ${init.stderr}`);
    git(dir, 'add', '-A');
    git(dir, 'commit', '--quiet', '-m', 'shipway init');
  }
}, 600_000);

afterAll(async () => {
  if (root === undefined) return;
  // The stack goes, whatever happened: its pods drain, then the registry and cluster stop. Should
  // `cluster down` fail, SIGTERM does the same, and a second `cluster down` reaps what is left.
  if (existsSync(join(home, 'cluster', 'cluster.json'))) {
    const down = await cli('cluster', 'down');
    if (down.code !== 0) {
      const { pid } = JSON.parse(readFileSync(join(home, 'cluster', 'cluster.json'), 'utf8')) as { pid: number };
      try {
        process.kill(pid, 'SIGTERM');
      } catch {}
      await new Promise((resolve) => setTimeout(resolve, 20_000));
      await cli('cluster', 'down');
    }
  }
  // A failing run leaves its job logs: print the failed ones to explain the failure.
  for (const result of runs)
    for (const job of result.pipelines.flatMap((pipeline) => pipeline.jobs))
      if (job.status === 'failed' && existsSync(job.log)) console.error(readFileSync(job.log, 'utf8').slice(-3000));
  rmSync(root, { recursive: true, force: true });
}, 120_000);

describe('two repositories, one local stack', SLOW, () => {
  it('`npx shipway run --yes` in each: both reach prod Healthy on their own images and answer their own response', async () => {
    for (const [name, dir, answer] of [
      ['hello-express', apps.express, 'Hello world'],
      ['orders-api', apps.orders, ORDERS_ANSWER],
    ] as const) {
      const result = await pipeline(dir, '--yes');
      first[name] = result;
      expect(result.status, JSON.stringify(result.pipelines)).toBe('success');
      expect(result.pipelines.map((each) => [each.ref, each.status])).toEqual([
        ['dev', 'success'],
        ['stage', 'success'],
        ['prod', 'success'],
      ]);
      // The component's build declares SHIPWAY_REUSE: tree: stage and prod reuse dev's.
      const builds = result.pipelines.map((each) => each.jobs.find((job) => job.name === 'build')?.reused?.ref);
      expect(builds).toEqual([undefined, 'dev', 'dev']);
      // Only this app's environments, built once and promoted by digest.
      expect(result.environments.map((env) => env.environment)).toEqual(['dev', 'stage', 'prod']);
      const prod = envOf(result, 'prod');
      expect(prod?.phase).toBe('Healthy');
      expect(prod?.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(prod?.image).toContain(`${result.registry}/${name}:`);
      for (const env of result.environments) expect(env.digest).toBe(prod?.digest);
      expect(await (await fetch(`${prod?.url}/`)).text()).toBe(answer);
    }
    const [express, orders] = [first['hello-express'], first['orders-api']];
    expect(envOf(express as RunJson, 'prod')?.digest).not.toBe(envOf(orders as RunJson, 'prod')?.digest);
    expect(express?.registry).toBe(orders?.registry);
  });

  it('`shipway cluster status --json` lists both apps in all three environments, each on its own image', async () => {
    const status = await clusterStatus();
    expect(status.apps.map((app) => [app.app, app.error])).toEqual([
      ['hello-express', null],
      ['orders-api', null],
    ]);
    expect(status.environments.map((env) => [env.app, env.environment, env.namespace, env.phase, env.digest])).toEqual(
      ['hello-express', 'orders-api'].flatMap((app) =>
        ['dev', 'stage', 'prod'].map((env) => [
          app,
          env,
          `${app}-${env}`,
          'Healthy',
          envOf(first[app] as RunJson, 'prod')?.digest,
        ]),
      ),
    );
  });

  it('right after the run, `shipway status --json` in each checkout shows one sha256 digest in dev, stage and prod', async () => {
    for (const [name, dir] of [
      ['hello-express', apps.express],
      ['orders-api', apps.orders],
    ] as const) {
      const status = await npx(dir, 'status', '--json');
      expect(status.code, status.stderr).toBe(0);
      // Read from the GitLab stand-in the run pushed to (origin is a GitLab that does not exist).
      expect(status.stderr).toMatch(new RegExp(`^git remote: .*/gitlab/${name}-[0-9a-f]{12}\\.git \\(`, 'm'));
      const environments = JSON.parse(status.stdout).environments as Record<string, { digest: string | null }>;
      const digests = ['dev', 'stage', 'prod'].map((env) => environments[env]?.digest);
      expect(new Set(digests)).toEqual(new Set([envOf(first[name] as RunJson, 'prod')?.digest]));
      expect(digests[0]).toMatch(/^sha256:[0-9a-f]{64}$/);
    }
  });

  it('`shipway rollback prod` there rolls a canary back, and the cluster follows it', async () => {
    const dir = apps.express;
    const before = envOf(first['hello-express'] as RunJson, 'prod')?.digest;
    write(dir, { 'index.js': EXPRESS_APP.replace("send('Hello world')", "send('Hello world, v2')") });
    git(dir, 'commit', '--quiet', '-am', 'v2');
    // The second release stops at prod's canary pause: prod's deploy job (the component's
    // `deploy` matrix job for prod) approved, promote-prod not.
    const second = await pipeline(dir, '--approve', 'deploy: [prod]');
    expect(second.status, JSON.stringify(second.pipelines)).toBe('success');
    const canary = envOf(second, 'prod');
    expect(canary?.phase).toBe('Paused');
    expect(canary?.digest).not.toBe(before);

    const rollback = await npx(dir, 'rollback', 'prod', '--json');
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(JSON.parse(rollback.stdout)).toMatchObject({ status: 'rolled-back', digest: before });
    let prod: (Environment & { app: string }) | undefined;
    for (const deadline = Date.now() + 120_000; Date.now() < deadline; ) {
      prod = (await clusterStatus()).environments.find(
        (env) => env.app === 'hello-express' && env.environment === 'prod',
      );
      if (prod?.phase === 'Healthy' && prod.digest === before) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect([prod?.phase, prod?.digest]).toEqual(['Healthy', before]);
    const answers = new Set<string>();
    for (let i = 0; i < 20; i += 1) answers.add(await (await fetch(`${prod?.url}/`)).text());
    expect([...answers]).toEqual(['Hello world']);
    const status = JSON.parse((await npx(dir, 'status', '--json')).stdout);
    expect(status.environments.prod.digest).toBe(before);
    expect(status.environments.dev.digest).toBe(canary?.digest);
  });
});
