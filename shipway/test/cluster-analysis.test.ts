import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClusterFixture, createClusterFixture } from './support/cluster-fixture.js';
import type { RepoClone } from './support/repo-clone.js';
import { shipway } from './support/run-shipway.js';

// The prod canary's analysis step on the embedded cluster: a release whose / answers 500 is
// measured through its own /metrics and aborted without anyone pressing a button. The embedded
// scraper collects every pod's /metrics and deployment/base's AnalysisTemplate query itself is
// evaluated; the abort message is Argo Rollouts' (rollout/analysis.go, analysis/analysis.go).
let fixture: ClusterFixture;
let clone: RepoClone;
let prodUrl: string;
let env: Record<string, string>;
const refs: string[] = [];

beforeAll(async () => {
  fixture = await createClusterFixture('shipway-cluster-analysis-');
  ({ clone, env } = fixture);
  refs.push((await fixture.build('good')).ref);
  const file = join(clone.dir, 'service/src/create-server.ts');
  writeFileSync(file, readFileSync(file, 'utf8').replace(".send('Hello world');", ".code(500).send('broken');"));
  refs.push((await fixture.build('broken')).ref);
  prodUrl = await fixture.start();
}, 240_000);

afterAll(() => fixture?.stop(), 60_000);

const rollout = (...argv: string[]) => shipway(clone.dir, ['rollout', ...argv], env);

/**
 * `shipway analysis run --against prod` while the canary (20 %, paused) answers 500: the base
 * template fails for the canary's pods and passes for the stable ones, scraped from the
 * environment's running pods in the embedded cluster.
 */
async function analysisRunAgainstProd(): Promise<void> {
  const view = JSON.parse((await rollout('status', 'prod', '--json')).stdout);
  let sending = true;
  const traffic = (async () => {
    for (let sent = 0; sending && sent < 20_000; sent += 1)
      await fetch(`${prodUrl}/`)
        .then((response) => response.text())
        .catch(() => '');
  })();
  const analyse = (hash: string) =>
    shipway(
      clone.dir,
      [
        'analysis',
        'run',
        'deployment/base/analysis-template.yaml',
        '--against',
        'prod',
        '--arg',
        `canary-hash=${hash}`,
        '--json',
      ],
      env,
    );
  try {
    const canary = await analyse(view.canary.revision);
    expect(canary.code, canary.stderr).toBe(4);
    const report = JSON.parse(canary.stdout);
    expect(report.status.message).toBe('Metric "error-rate" assessed Failed due to failed (2) > failureLimit (1)');
    const stable = await analyse(view.stable.revision);
    expect(stable.code, stable.stderr).toBe(0);
  } finally {
    sending = false;
    await traffic;
  }
}

describe('the analysis step', () => {
  it('fails a canary whose /metrics show errors, and the rollout aborts by itself', async () => {
    expect((await shipway(clone.dir, ['promote', 'prod', '--approve', '--image', refs[0] ?? ''], env)).code).toBe(0);
    expect((await rollout('wait', 'prod', '--for', 'healthy', '--timeout', '60s')).code).toBe(0);
    expect((await shipway(clone.dir, ['promote', 'prod', '--approve', '--image', refs[1] ?? ''], env)).code).toBe(0);
    expect((await rollout('wait', 'prod', '--for', 'paused', '--timeout', '60s')).code).toBe(0);
    await analysisRunAgainstProd();
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
        /is Degraded: RolloutAborted: Rollout aborted update to revision \w+: Step-based analysis phase error\/failed: Metric "error-rate" assessed Failed due to failed \(2\) > failureLimit \(1\)/,
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

  it('the state survives a restart of the cluster: the same Rollout status, its stable pods running again', async () => {
    const lasting = (view: Record<string, unknown>) => {
      const { phase, message, step, aborted, stable, canary, desiredWeight } = view;
      return { phase, message, step, aborted, stable, canary, desiredWeight };
    };
    const before = JSON.parse((await rollout('status', 'prod', '--json')).stdout);
    const url = await fixture.restart();
    expect(url).toBe(prodUrl);
    const after = JSON.parse((await rollout('status', 'prod', '--json')).stdout);
    expect(lasting(after)).toEqual(lasting(before));
    expect(after).toMatchObject({ phase: 'Degraded', aborted: true });
    let answered = '';
    for (const deadline = Date.now() + 30_000; Date.now() < deadline && answered !== 'Hello world'; )
      answered = await fetch(`${url}/`)
        .then((response) => response.text())
        .catch(() => '');
    expect(answered).toBe('Hello world');
  }, 120_000);
});
