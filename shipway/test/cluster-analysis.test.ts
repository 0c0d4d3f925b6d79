import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster } from '../src/app/cluster.js';
import type { EmbeddedCluster } from '../src/local/cluster/embedded-cluster.js';
import { createRegistryServer } from '../src/local/registry/registry-server.js';
import { cloneRepo, type RepoClone } from './support/repo-clone.js';
import { shipway } from './support/run-shipway.js';

// The prod canary's analysis step on the embedded cluster: a release whose / answers 500 is
// measured through its own /metrics and aborted without anyone pressing a button.
let clone: RepoClone;
let registry: FastifyInstance;
let cluster: EmbeddedCluster;
let prodUrl: string;
let env: Record<string, string>;
const refs: string[] = [];

async function build(tag: string): Promise<string> {
  const result = await shipway(clone.dir, ['image', 'build', '--base', 'host', '--push', '--tag', tag, '--json'], env);
  if (result.code !== 0) throw new Error(result.stderr);
  return (JSON.parse(result.stdout) as { ref: string }).ref;
}

beforeAll(async () => {
  clone = cloneRepo('shipway-cluster-analysis-');
  const remote = join(clone.dir, '..', 'remote.git');
  execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', remote]);
  execFileSync('git', ['remote', 'set-url', 'origin', remote], { cwd: clone.dir });
  execFileSync('git', ['push', '--quiet', 'origin', 'HEAD:main'], { cwd: clone.dir });
  registry = await createRegistryServer({ dir: join(clone.dir, '..', 'registry') });
  env = { AWS_REPOSITORY: `${new URL(await registry.listen({ port: 0, host: '127.0.0.1' })).host}/hello` };
  refs.push(await build('good'));
  const file = join(clone.dir, 'service/src/create-server.ts');
  writeFileSync(file, readFileSync(file, 'utf8').replace(".send('Hello world');", ".code(500).send('broken');"));
  refs.push(await build('broken'));
  const started = await startCluster(
    { cwd: clone.dir, env: { ...process.env, ...env }, progress: () => {} },
    { stateDir: '.shipway/cluster' },
  );
  cluster = started.cluster;
  prodUrl = started.info.urls.prod ?? '';
}, 240_000);

afterAll(async () => {
  await cluster?.down();
  await registry?.close();
  clone?.cleanup();
}, 60_000);

const rollout = (...argv: string[]) => shipway(clone.dir, ['rollout', ...argv], env);

describe('the analysis step', () => {
  it('fails a canary whose /metrics show errors, and the rollout aborts by itself', async () => {
    expect((await shipway(clone.dir, ['promote', 'prod', '--approve', '--image', refs[0] ?? ''], env)).code).toBe(0);
    expect((await rollout('wait', 'prod', '--for', 'healthy', '--timeout', '60s')).code).toBe(0);
    expect((await shipway(clone.dir, ['promote', 'prod', '--approve', '--image', refs[1] ?? ''], env)).code).toBe(0);
    expect((await rollout('wait', 'prod', '--for', 'paused', '--timeout', '60s')).code).toBe(0);
    expect((await rollout('promote', 'prod')).code).toBe(0);
    expect((await rollout('wait', 'prod', '--for', 'step=3', '--timeout', '60s')).code).toBe(0);
    expect((await rollout('wait', 'prod', '--for', 'paused', '--timeout', '60s')).code).toBe(0);
    // Traffic, so that the canary's counters move while the analysis measures them.
    let sending = true;
    const traffic = (async () => {
      while (sending)
        await fetch(`${prodUrl}/`)
          .then((response) => response.text())
          .catch(() => '');
    })();
    try {
      expect((await rollout('promote', 'prod')).code).toBe(0);
      const degraded = await rollout('wait', 'prod', '--for', 'healthy', '--timeout', '60s');
      expect(degraded.code).toBe(4);
      expect(degraded.stderr).toMatch(
        /is Degraded: RolloutAborted: Rollout aborted update to revision \w+: metric "error-rate" assessed Failed due to failed \(2\) > failureLimit \(1\)/,
      );
    } finally {
      sending = false;
      await traffic;
    }
    const status = JSON.parse((await rollout('status', 'prod', '--json')).stdout);
    expect(status).toMatchObject({ phase: 'Degraded', aborted: true, desiredWeight: 0 });
    // The stable release takes all the traffic back once it is scaled up again (canary pods
    // stay in service until the stable ones are ready, so capacity never drops).
    let streak = 0;
    for (const deadline = Date.now() + 30_000; Date.now() < deadline && streak < 50; ) {
      streak = (await (await fetch(`${prodUrl}/`)).text()) === 'Hello world' ? streak + 1 : 0;
    }
    expect(streak).toBe(50);
  }, 240_000);
});
