import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processAlive } from '../src/adapters/process/process-alive.js';
import { startCluster } from '../src/app/cluster.js';
import { parseShipwayConfig } from '../src/core/config/shipway-config.js';
import { RefusedError } from '../src/core/errors.js';
import { appRecordOf } from '../src/core/stack/app-record.js';
import { forgetApp, registerApp } from '../src/local/cluster/app-records.js';
import type { EmbeddedCluster } from '../src/local/cluster/embedded-cluster.js';
import { type ClusterFixture, createClusterFixture } from './support/cluster-fixture.js';
import { git } from './support/git-fixture.js';
import { shipway } from './support/run-shipway.js';

// One embedded cluster, several apps: an app registered while the cluster runs is followed in
// its own namespaces within a second, without a restart and without touching the pods of the
// app already there (same pods, same processes, no failed request under load); an app that
// wants another's namespace is refused; a forgotten app's pods go, nobody else's.
interface Pod {
  name: string;
  state: string;
  pid: number | null;
  restarts: number;
}
interface Env {
  app: string;
  environment: string;
  namespace: string;
  url: string;
  pods: Pod[];
}

let fixture: ClusterFixture;
let cluster: EmbeddedCluster;
let stateDir: string;
let ref: string;

function get(url: string, agent: Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function environments(): Promise<Env[]> {
  const status = await shipway(fixture.clone.dir, ['cluster', 'status', '--json'], fixture.env);
  if (status.code !== 0) throw new Error(status.stderr);
  return (JSON.parse(status.stdout) as { environments: Env[] }).environments;
}

async function readyPods(app: string, count: number): Promise<Env> {
  let seen: Env | undefined;
  for (const deadline = Date.now() + 120_000; Date.now() < deadline; ) {
    seen = (await environments()).find((env) => env.app === app && env.environment === 'dev');
    if (seen !== undefined && seen.pods.filter((pod) => pod.state === 'ready').length >= count) return seen;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`${app} dev has no ${count} ready pods: ${JSON.stringify(seen)}`);
}

/** A second service repository: this one's deployment/, as app `name` in namespaces `<name>-dev`. */
function secondApp(name: string, namespace: string): { dir: string; yaml: string } {
  const dir = join(fixture.clone.dir, '..', name);
  const remote = join(fixture.clone.dir, '..', `${name}-remote.git`);
  cpSync(join(fixture.clone.dir, 'deployment'), join(dir, 'deployment'), { recursive: true });
  const overlay = join(dir, 'deployment/dev/kustomization.yaml');
  writeFileSync(overlay, readFileSync(overlay, 'utf8').replace('namespace: hello-dev', `namespace: ${namespace}`));
  const yaml = readFileSync(join(fixture.clone.dir, 'shipway.yaml'), 'utf8')
    .replace('app: hello', `app: ${name}`)
    .replace('namespace: hello-dev', `namespace: ${namespace}`);
  writeFileSync(join(dir, 'shipway.yaml'), yaml);
  git(join(dir, '..'), 'init', '--quiet', '--bare', '--initial-branch=main', remote);
  git(dir, 'init', '--quiet', '--initial-branch=main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '--quiet', '-m', 'initial');
  git(dir, 'remote', 'add', 'origin', remote);
  git(dir, 'push', '--quiet', 'origin', 'main');
  return { dir, yaml };
}

const recordFor = (name: string, dir: string, yaml: string) =>
  appRecordOf(parseShipwayConfig(yaml), {
    key: `${name}-0123456789ab`,
    remote: join(dir, '..', `${name}-remote.git`),
    checkout: dir,
    registeredAt: new Date().toISOString(),
  });

beforeAll(async () => {
  fixture = await createClusterFixture('shipway-cluster-apps-');
  const dir = fixture.clone.dir;
  // As light as the config allows: one environment, one replica.
  const config = readFileSync(join(dir, 'shipway.yaml'), 'utf8');
  writeFileSync(join(dir, 'shipway.yaml'), config.slice(0, config.indexOf('  - name: stage')));
  git(dir, 'commit', '--quiet', '-am', 'test: dev only');
  git(dir, 'push', '--quiet', 'origin', 'HEAD:main');
  ref = (await fixture.build('v1')).ref;
  stateDir = join(dir, '.shipway', 'cluster');
  cluster = (
    await startCluster({ cwd: dir, env: { ...process.env, ...fixture.env }, progress: () => {} }, { stateDir })
  ).cluster;
  const promoted = await shipway(dir, ['promote', 'dev', '--image', ref], fixture.env);
  if (promoted.code !== 0) throw new Error(promoted.stderr);
}, 300_000);

afterAll(async () => {
  await cluster?.down();
  await fixture?.stop();
}, 90_000);

describe('one cluster, many apps', () => {
  it('a second app registers while the cluster runs: followed in its own namespace, the first app untouched under load', async () => {
    const before = await readyPods('hello', 1);
    const agent = new Agent({ keepAlive: true, maxSockets: 2 });
    const failures: string[] = [];
    let served = 0;
    let loading = true;
    const load = (async () => {
      while (loading) {
        const answer = await get(`${before.url}/`, agent).catch((error: unknown) => ({
          status: 0,
          body: String(error),
        }));
        if (answer.status === 200 && answer.body === 'Hello world') served += 1;
        else failures.push(`${answer.status} ${answer.body.slice(0, 80)}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    try {
      const orders = secondApp('orders', 'orders-dev');
      await registerApp(stateDir, recordFor('orders', orders.dir, orders.yaml));
      const promoted = await shipway(orders.dir, ['promote', 'dev', '--image', ref], fixture.env);
      expect(promoted.code, promoted.stderr).toBe(0);
      const second = await readyPods('orders', 1);
      expect(second).toMatchObject({ app: 'orders', namespace: 'orders-dev' });
      expect(second.url).not.toBe(before.url);
      expect((await get(`${second.url}/`, agent)).body).toBe('Hello world');
      const info = JSON.parse(readFileSync(join(stateDir, 'cluster.json'), 'utf8'));
      expect(Object.keys(info.apps).sort()).toEqual(['hello', 'orders']);
    } finally {
      loading = false;
      await load;
      agent.destroy();
    }
    const after = (await environments()).find((env) => env.app === 'hello');
    // The same pods, the same processes, never restarted, and no request failed meanwhile.
    expect(after?.pods.map(({ name, pid, restarts }) => ({ name, pid, restarts }))).toEqual(
      before.pods.map(({ name, pid }) => ({ name, pid, restarts: 0 })),
    );
    expect(failures).toEqual([]);
    expect(served).toBeGreaterThan(20);
  }, 240_000);

  it("an app that wants another app's namespace is refused with what to do, and nothing is written", async () => {
    const squatter = secondApp('hello-dev', 'hello-dev');
    const refused = await registerApp(stateDir, recordFor('hello-dev', squatter.dir, squatter.yaml)).catch(
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(RefusedError);
    expect(refused).toMatchObject({
      code: 'NAMESPACE_TAKEN',
      message:
        "namespace hello-dev (environment dev of app hello-dev) is not permitted: it is app hello's (environment dev)",
    });
    expect(execFileSync('ls', [join(stateDir, 'apps')], { encoding: 'utf8' })).not.toContain('hello-dev-');
    expect((await environments()).map((env) => `${env.app}/${env.namespace}`)).toEqual([
      'hello/hello-dev',
      'orders/orders-dev',
    ]);
  });

  it("a forgotten app's pods stop and its objects go; the other app's pods stay", async () => {
    const orders = await readyPods('orders', 1);
    const hello = await readyPods('hello', 1);
    expect((await forgetApp(stateDir, 'orders')).map((record) => record.app)).toEqual(['orders']);
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
      const apps = (await environments()).map((env) => env.app);
      if (!apps.includes('orders') && orders.pods.every((pod) => pod.pid === null || !processAlive(pod.pid))) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect((await environments()).map((env) => env.app)).toEqual(['hello']);
    expect(orders.pods.filter((pod) => pod.pid !== null && processAlive(pod.pid))).toEqual([]);
    const rollouts = await shipway(fixture.clone.dir, ['rollout', 'status', 'dev', '--json'], fixture.env);
    expect(rollouts.code, rollouts.stderr).toBe(0);
    expect((await readyPods('hello', 1)).pods.map((pod) => pod.pid)).toEqual(hello.pods.map((pod) => pod.pid));
  }, 60_000);
});
