import { execFile, execFileSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type ClusterFixture, createClusterFixture } from './support/cluster-fixture.js';
import type { RepoClone } from './support/repo-clone.js';
import { shipway } from './support/run-shipway.js';

// The whole prod story on the embedded cluster: real registry, real images run as processes,
// real Git branches followed like Argo CD, the canary run like Argo Rollouts, traffic through the
// environment's front proxy, and steady load the whole time.
const run = promisify(execFile);
let fixture: ClusterFixture;
let clone: RepoClone;
let prodUrl: string;
let env: Record<string, string>;
const digests: string[] = [];

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

/** Steady load through the front proxy: keeps every failure it sees. */
function startLoad(url: string) {
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const failures: string[] = [];
  let ok = 0;
  let running = true;
  const worker = async () => {
    while (running) {
      try {
        const answer = await get(`${url}/`, agent);
        if (answer.status === 200 && answer.body === 'Hello world') ok += 1;
        else failures.push(`HTTP ${answer.status}: ${answer.body.slice(0, 80)}`);
      } catch (error) {
        failures.push(String(error));
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
  const workers = [worker(), worker()];
  return {
    failures,
    ok: () => ok,
    stop: async () => {
      running = false;
      await Promise.all(workers);
      agent.destroy();
    },
  };
}

async function versionShares(url: string, samples: number): Promise<Map<string, number>> {
  const agent = new Agent({ keepAlive: false });
  const counts = new Map<string, number>();
  for (let i = 0; i < samples; i += 1) {
    const { body } = await get(`${url}/version`, agent);
    const digest = (JSON.parse(body) as { imageDigest: string }).imageDigest;
    counts.set(digest, (counts.get(digest) ?? 0) + 1);
  }
  return counts;
}

beforeAll(async () => {
  fixture = await createClusterFixture('shipway-cluster-e2e-');
  ({ clone, env } = fixture);
  digests.push((await fixture.build('v1')).digest);
  appendFileSync(join(clone.dir, 'service/src/create-server.ts'), '\n// v2\n');
  digests.push((await fixture.build('v2')).digest);
  appendFileSync(join(clone.dir, 'service/src/create-server.ts'), '\n// v3\n');
  digests.push((await fixture.build('v3')).digest);
  prodUrl = await fixture.start();
}, 240_000);

afterAll(() => fixture?.stop(), 60_000);

async function phaseEventually(phase: string, timeoutMs: number): Promise<string> {
  let seen = '';
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; ) {
    const status = await rollout('status', 'prod', '--json');
    seen = status.stdout === '' ? status.stderr : (JSON.parse(status.stdout) as { phase: string }).phase;
    if (seen === phase) return seen;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return seen;
}

const ref = (n: number) => `${env.AWS_REPOSITORY}:v${n + 1}@${digests[n]}`;
const rollout = (...argv: string[]) => shipway(clone.dir, ['rollout', ...argv], env);

describe("the embedded cluster runs prod's canary for real", () => {
  it('v1 → Healthy, v2 → canary with its share of traffic, promote → Healthy on v2, v3 → abort → back to v2 and Git reverted; zero failed requests under load', async () => {
    expect((await shipway(clone.dir, ['promote', 'prod', '--approve', '--image', ref(0)], env)).code).toBe(0);
    expect((await rollout('wait', 'prod', '--for', 'healthy', '--timeout', '60s')).code).toBe(0);
    expect([...(await versionShares(prodUrl, 20)).keys()]).toEqual([digests[0]]);

    const load = startLoad(prodUrl);
    try {
      // v2: paused at the first pause step with 1 of 5 pods on the canary.
      expect((await shipway(clone.dir, ['promote', 'prod', '--approve', '--image', ref(1)], env)).code).toBe(0);
      const paused = await rollout('wait', 'prod', '--for', 'paused', '--timeout', '60s', '--json');
      expect(paused.code, paused.stderr).toBe(0);
      expect(JSON.parse(paused.stdout)).toMatchObject({
        phase: 'Paused',
        message: 'CanaryPauseStep',
        step: { current: 1, total: 6 },
      });
      const shares = await versionShares(prodUrl, 100);
      expect((shares.get(digests[1] ?? '') ?? 0) / 100).toBeGreaterThan(0.08);
      expect((shares.get(digests[1] ?? '') ?? 0) / 100).toBeLessThan(0.4);

      // A pod crash on the way: the runtime restarts it, the proxy routes around it.
      const status = await shipway(clone.dir, ['cluster', 'status', '--json'], env);
      const prod = (
        JSON.parse(status.stdout) as {
          environments: { environment: string; pods: { name: string; state: string; pid: number | null }[] }[];
        }
      ).environments.find((entry) => entry.environment === 'prod');
      expect(prod?.pods.length).toBeGreaterThanOrEqual(5);
      const victim = prod?.pods.find((pod) => pod.state === 'ready' && pod.pid !== null);
      if (victim?.pid === undefined || victim.pid === null)
        throw new Error(`no ready prod pod to kill: ${status.stdout}`);
      process.kill(victim.pid, 'SIGKILL');
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const after = JSON.parse((await shipway(clone.dir, ['cluster', 'status', '--json'], env)).stdout) as {
        environments: { environment: string; pods: { name: string; restarts: number }[] }[];
      };
      const restarted = after.environments
        .find((entry) => entry.environment === 'prod')
        ?.pods.find((pod) => pod.name === victim?.name);
      expect(restarted?.restarts).toBe(1);

      // promote: setWeight 50 → the timed pause (promote skips it) → analysis → 100 % → Healthy on v2.
      expect((await rollout('promote', 'prod')).code).toBe(0);
      expect((await rollout('wait', 'prod', '--for', 'step=3', '--timeout', '60s')).code).toBe(0);
      expect((await rollout('wait', 'prod', '--for', 'paused', '--timeout', '60s')).code).toBe(0);
      expect((await rollout('promote', 'prod')).code).toBe(0);
      const healthy = await rollout('wait', 'prod', '--for', 'healthy', '--timeout', '90s', '--json');
      expect(healthy.code, healthy.stderr).toBe(0);
      expect([...(await versionShares(prodUrl, 30)).keys()]).toEqual([digests[1]]);

      // v3, then abort: all traffic back on v2, and Git pins v2 again.
      expect((await shipway(clone.dir, ['promote', 'prod', '--approve', '--image', ref(2)], env)).code).toBe(0);
      expect((await rollout('wait', 'prod', '--for', 'paused', '--timeout', '60s')).code).toBe(0);
      const aborted = await rollout('abort', 'prod');
      expect(aborted.code, aborted.stderr).toBe(0);
      expect(aborted.stdout).toContain(`Git: prod pinned back to ${ref(1)}`);
      const kustomization = parse(
        execFileSync('git', ['show', 'prod:deployment/prod/kustomization.yaml'], {
          cwd: join(clone.dir, '..', 'remote.git'),
          encoding: 'utf8',
        }),
      );
      expect(kustomization.images[0].digest).toBe(digests[1]);
      // The abort leaves the Rollout Degraded until Argo CD (here: the cluster's sync) applies the
      // reverted commit; the stable template then goes straight to Healthy.
      expect(await phaseEventually('Healthy', 60_000)).toBe('Healthy');
      expect([...(await versionShares(prodUrl, 30)).keys()]).toEqual([digests[1]]);
    } finally {
      await load.stop();
    }
    expect(load.failures).toEqual([]);
    expect(load.ok()).toBeGreaterThan(200);
  }, 300_000);

  it('kubectl get rollouts.argoproj.io -A lists the rollout', async () => {
    const { stdout } = await run('kubectl', [
      '--kubeconfig',
      join(clone.dir, '.shipway/cluster/kubeconfig'),
      'get',
      'rollouts.argoproj.io',
      '-A',
    ]);
    expect(stdout).toMatch(/^NAMESPACE\s+NAME\s+AGE\n/);
    expect(stdout).toMatch(/\nhello-prod\s+hello\s+/);
    const yaml = await run('kubectl', [
      '--kubeconfig',
      join(clone.dir, '.shipway/cluster/kubeconfig'),
      'get',
      'rollout',
      'hello',
      '-n',
      'hello-prod',
      '-o',
      'yaml',
    ]);
    expect(parse(yaml.stdout)).toMatchObject({
      kind: 'Rollout',
      metadata: { name: 'hello', namespace: 'hello-prod' },
      status: { phase: 'Healthy' },
    });
  });
});
