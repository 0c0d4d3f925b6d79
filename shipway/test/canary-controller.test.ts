import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CanaryController } from '../src/local/cluster/canary-controller.js';
import { ObjectStore, toKubeObject } from '../src/local/cluster/object-store.js';
import { PodRuntime } from '../src/local/cluster/pod-runtime.js';

// The embedded cluster's controller on manifests it cannot honour: the Rollout says so in its
// status (InvalidSpec, Degraded) and no pod is started.
let dir: string;
let store: ObjectStore;
let pods: PodRuntime;
let controller: CanaryController;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'shipway-controller-'));
  store = new ObjectStore();
  pods = new PodRuntime(dir, () => controller.kick());
  controller = new CanaryController(store, pods);
  controller.start();
});
afterEach(async () => {
  controller.stop();
  await pods.close();
  rmSync(dir, { recursive: true, force: true });
});

function rollout(spec: Record<string, unknown>) {
  return toKubeObject({
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name: 'hello', namespace: 'hello-prod', generation: 1 },
    spec: {
      replicas: 2,
      template: { spec: { containers: [{ name: 'hello', image: '127.0.0.1:9/hello:v1' }] } },
      strategy: { canary: { steps: [{ setWeight: 50 }] } },
      ...spec,
    },
    status: {},
  });
}

async function statusEventually(
  predicate: (status: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>> {
  for (let i = 0; i < 60; i += 1) {
    const status = (store.get('Rollout', 'hello-prod', 'hello')?.status ?? {}) as Record<string, unknown>;
    if (predicate(status)) return status;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return (store.get('Rollout', 'hello-prod', 'hello')?.status ?? {}) as Record<string, unknown>;
}

describe('InvalidSpec: what the embedded cluster cannot run is reported, never ignored', () => {
  it.each([
    [
      'a volume',
      {
        template: { spec: { volumes: [{ name: 'data', emptyDir: {} }], containers: [{ name: 'hello', image: 'x' }] } },
      },
      'spec.template.spec.volumes: volumes are not supported by the embedded cluster',
    ],
    [
      'an unknown step',
      { strategy: { canary: { steps: [{ setWeight: 20 }, { experiment: { templates: [] } }] } } },
      'spec.strategy.canary.steps[1].experiment: step not supported by the embedded cluster',
    ],
    [
      'two containers',
      {
        template: {
          spec: {
            containers: [
              { name: 'a', image: 'x' },
              { name: 'b', image: 'y' },
            ],
          },
        },
      },
      'spec.template.spec.containers: the embedded cluster runs exactly one container, got 2',
    ],
    [
      'env from a secret',
      {
        template: {
          spec: {
            containers: [
              { name: 'a', image: 'x', env: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] },
            ],
          },
        },
      },
      'spec.template.spec.containers[0].env.TOKEN: valueFrom is not supported by the embedded cluster',
    ],
  ])('%s', async (_what, spec, message) => {
    store.put(rollout(spec));
    const status = await statusEventually((value) => value.phase === 'Degraded');
    expect(status).toMatchObject({
      phase: 'Degraded',
      message: `InvalidSpec: ${message}`,
      conditions: [{ type: 'InvalidSpec', message }],
    });
    expect(pods.list()).toEqual([]);
  });

  it('a valid Rollout is not reported (and its pods are started)', async () => {
    store.put(rollout({}));
    const status = await statusEventually((value) => value.currentPodHash !== undefined);
    expect(status.conditions).toEqual([]);
    expect(status.phase).not.toBe('Degraded');
    expect(pods.list().length).toBeGreaterThan(0);
  });
});

describe('progress deadline', () => {
  it('pods that never become ready time out into Degraded / ProgressDeadlineExceeded', async () => {
    // The image cannot be pulled (nothing listens on port 9), so no pod ever becomes ready.
    store.put(rollout({ progressDeadlineSeconds: 1 }));
    const status = await statusEventually((value) => value.phase === 'Degraded');
    expect(status.phase).toBe('Degraded');
    expect(String(status.message)).toMatch(
      /^ProgressDeadlineExceeded: ReplicaSet "hello-[0-9a-f]{10}" has timed out progressing\.$/,
    );
    expect(pods.list().every((pod) => pod.state !== 'ready')).toBe(true);
    expect(pods.list()[0]?.error).toMatch(/ECONNREFUSED/);
  });
});

describe('analysis the embedded cluster cannot evaluate faithfully is InvalidSpec', () => {
  function template(metric: Record<string, unknown>) {
    return toKubeObject({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'AnalysisTemplate',
      metadata: { name: 'checks', namespace: 'hello-prod' },
      spec: { metrics: [{ name: 'm', successCondition: 'result[0] < 1', ...metric }] },
    });
  }

  /** A first revision (straight to stable), then a second one, which runs the strategy. */
  async function update(strategy: Record<string, unknown>): Promise<Record<string, unknown>> {
    store.put(rollout({ strategy: { canary: strategy } }));
    await statusEventually((value) => value.stableRS !== undefined);
    const current = store.get('Rollout', 'hello-prod', 'hello');
    const spec = current?.spec as Record<string, unknown>;
    const containers = [{ name: 'hello', image: '127.0.0.1:9/hello:v2' }];
    if (current !== undefined) store.put({ ...current, spec: { ...spec, template: { spec: { containers } } } });
    return statusEventually((value) => value.phase === 'Degraded');
  }

  it('a step analysis with a provider shipway does not run names it', async () => {
    store.put(template({ provider: { datadog: { query: 'avg:errors' } } }));
    const status = await update({ steps: [{ analysis: { templates: [{ templateName: 'checks' }] } }] });
    expect(status.conditions).toEqual([
      expect.objectContaining({
        type: 'InvalidSpec',
        message: 'steps[0].analysis: metrics[0].provider.datadog: the datadog provider is not supported by shipway',
      }),
    ]);
  });

  it('a background analysis with PromQL outside the subset names the construct and its position', async () => {
    store.put(template({ provider: { prometheus: { query: 'sum(rate(errors_total[1m] offset 5m))' } } }));
    const status = await update({ analysis: { templates: [{ templateName: 'checks' }] }, steps: [{ setWeight: 50 }] });
    expect(status.conditions).toEqual([
      expect.objectContaining({
        type: 'InvalidSpec',
        message:
          'strategy.canary.analysis: metrics[0].provider.prometheus.query: PromQL 1:10: the offset modifier is not supported',
      }),
    ]);
  });
});
