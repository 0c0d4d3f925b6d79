import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeKubeApi } from './support/fake-kube-api.js';
import { createGitFixture, type GitFixture } from './support/git-fixture.js';
import { CANARY_DIGEST, rolloutObject, STABLE_DIGEST, stableReplicaSet } from './support/rollout-fixture.js';
import { shipway } from './support/run-shipway.js';

let api: FakeKubeApi;
let fixture: GitFixture;
let kubeconfig: string;

beforeEach(async () => {
  api = new FakeKubeApi();
  await api.start();
  fixture = createGitFixture();
  kubeconfig = join(fixture.root, 'kubeconfig');
  writeFileSync(kubeconfig, api.kubeconfig());
  api.replicaSets.push(stableReplicaSet());
});
afterEach(async () => {
  await api.stop();
  fixture.cleanup();
});

const run = (...argv: string[]) => shipway(fixture.work, ['rollout', ...argv, '--kubeconfig', kubeconfig]);
const sent = () => api.patches.map(({ target, body, status }) => ({ target, body, status }));

const pausedAtStep = {
  currentStepIndex: 1,
  pauseConditions: [{ reason: 'CanaryPauseStep', startTime: '2026-01-01T00:00:00Z' }],
  controllerPause: true,
};

describe('rollout promote/abort/retry/pause: the exact merge patches, per Rollout state', () => {
  const table: {
    state: string;
    status: Record<string, unknown>;
    spec?: Record<string, unknown>;
    argv: string[];
    patches: { target: string; body: Record<string, unknown> }[];
  }[] = [
    {
      state: 'paused at a pause step',
      status: pausedAtStep,
      argv: ['promote'],
      patches: [{ target: 'status', body: { status: { pauseConditions: null } } }],
    },
    {
      // promote.go getPatches, v1.9.1 lines 170-172 and 186-200: the step advances as well.
      state: 'paused manually, no pause conditions: the step advances and the spec unpauses',
      status: { currentStepIndex: 2 },
      spec: { paused: true },
      argv: ['promote'],
      patches: [
        { target: 'status', body: { status: { pauseConditions: null, currentStepIndex: 3 } } },
        { target: 'main', body: { spec: { paused: false } } },
      ],
    },
    {
      state: 'inconclusive analysis with controller pause',
      status: {
        currentStepIndex: 4,
        pauseConditions: [{ reason: 'InconclusiveAnalysisRun' }],
        controllerPause: true,
        canary: { currentStepAnalysisRunStatus: { status: 'Inconclusive' } },
      },
      argv: ['promote'],
      patches: [
        { target: 'status', body: { status: { pauseConditions: null, controllerPause: false, currentStepIndex: 5 } } },
      ],
    },
    {
      state: 'progressing, not paused',
      status: { currentStepIndex: 2 },
      argv: ['promote'],
      patches: [{ target: 'status', body: { status: { pauseConditions: null, currentStepIndex: 3 } } }],
    },
    {
      state: 'progressing, --full',
      status: { currentStepIndex: 2 },
      argv: ['promote', '--full'],
      patches: [{ target: 'status', body: { status: { promoteFull: true } } }],
    },
    {
      state: 'fully promoted, --full',
      status: { currentStepIndex: 6, currentPodHash: 'stable1' },
      argv: ['promote', '--full'],
      patches: [],
    },
    {
      state: 'aborted, retry',
      status: {
        abort: true,
        conditions: [
          { type: 'Progressing', reason: 'RolloutAborted', message: 'Rollout aborted update to revision 2' },
        ],
      },
      argv: ['retry'],
      patches: [{ target: 'status', body: { status: { abort: false } } }],
    },
    {
      state: 'progressing, abort --no-revert',
      status: { currentStepIndex: 2 },
      argv: ['abort', '--no-revert'],
      patches: [{ target: 'status', body: { status: { abort: true } } }],
    },
    {
      state: 'progressing, pause',
      status: { currentStepIndex: 2 },
      argv: ['pause'],
      patches: [{ target: 'main', body: { spec: { paused: true } } }],
    },
    {
      state: 'paused manually at a pause step: status first, then spec',
      status: pausedAtStep,
      spec: { paused: true },
      argv: ['promote'],
      patches: [
        { target: 'status', body: { status: { pauseConditions: null } } },
        { target: 'main', body: { spec: { paused: false } } },
      ],
    },
  ];

  it.each(table)('$state: $argv', async ({ status, spec, argv, patches }) => {
    const stored = api.put(rolloutObject(status, spec));
    const result = await run(argv[0] ?? '', 'prod', ...argv.slice(1));
    expect(result.code, result.stderr).toBe(0);
    expect(sent().map(({ target, body }) => ({ target, body: { ...body, metadata: undefined } }))).toEqual(
      patches.map((patch) => ({ ...patch, body: { ...patch.body, metadata: undefined } })),
    );
    expect(api.patches.every((patch) => patch.contentType.startsWith('application/merge-patch+json'))).toBe(true);
    // Each patch carries the resourceVersion it was computed from: the first the one read, later ones the previous patch's answer.
    const versions = api.patches.map((patch) => (patch.body.metadata as { resourceVersion: string }).resourceVersion);
    if (versions.length > 0) expect(versions[0]).toBe((stored.metadata as { resourceVersion: string }).resourceVersion);
    if (versions.length > 1) expect(Number(versions[1])).toBe(Number(versions[0]) + 1);
  });
});

describe('conflicts', () => {
  it('on 409 it reads the Rollout again and sends the patch the new state calls for', async () => {
    api.put(rolloutObject({ currentStepIndex: 2 }));
    // Between shipway's GET and PATCH, the controller reaches the pause step.
    api.beforeNextPatch = () =>
      api.update('hello-prod', 'hello', (rollout) => ({
        ...rollout,
        status: {
          ...(rollout.status as object),
          currentStepIndex: 3,
          pauseConditions: [{ reason: 'CanaryPauseStep' }],
          controllerPause: true,
        },
      }));
    const result = await run('promote', 'prod', '--json');
    expect(result.code, result.stderr).toBe(0);
    expect(
      sent().map(({ target, body, status }) => ({ target, status, body: { ...body, metadata: undefined } })),
    ).toEqual([
      {
        target: 'status',
        status: 409,
        body: { status: { pauseConditions: null, currentStepIndex: 3 }, metadata: undefined },
      },
      { target: 'status', status: 200, body: { status: { pauseConditions: null }, metadata: undefined } },
    ]);
    expect(JSON.parse(result.stdout).conflicts).toBe(1);
    expect(result.stderr).toContain('changed while promoting; reading it again');
  });
});

describe('--expect-digest', () => {
  it('promotes when the canary runs that digest', async () => {
    api.put(rolloutObject(pausedAtStep));
    expect((await run('promote', 'prod', '--expect-digest', CANARY_DIGEST)).code).toBe(0);
    expect(api.patches).toHaveLength(1);
  });

  it('refuses with exit 4 and patches nothing when a different release is rolling out', async () => {
    api.put(rolloutObject(pausedAtStep));
    const result = await run('promote', 'prod', '--expect-digest', STABLE_DIGEST);
    expect(result.code).toBe(4);
    expect(result.stderr).toContain(`is rolling out ${CANARY_DIGEST}, not ${STABLE_DIGEST}`);
    expect(api.patches).toEqual([]);
  });
});

describe('abort reverts Git to the stable image', () => {
  it("patches status.abort, then pins the stable revision's image on the prod branch", async () => {
    // prod first ran v1 (stable), then v2 (the canary being aborted).
    await shipway(fixture.work, [
      'promote',
      'prod',
      '--approve',
      '--image',
      `127.0.0.1:5000/hello:v1@${STABLE_DIGEST}`,
    ]);
    await shipway(fixture.work, [
      'promote',
      'prod',
      '--approve',
      '--image',
      `127.0.0.1:5000/hello:v2@${CANARY_DIGEST}`,
    ]);
    api.put(rolloutObject(pausedAtStep));
    const result = await run('abort', 'prod');
    expect(result.code, result.stderr).toBe(0);
    expect(sent().map(({ target, body }) => ({ target, status: (body as { status: unknown }).status }))).toEqual([
      { target: 'status', status: { abort: true } },
    ]);
    expect(result.stdout).toBe(
      `rollout 'hello' aborted\nGit: prod pinned back to 127.0.0.1:5000/hello:v1@${STABLE_DIGEST} (rolled-back)\n`,
    );
    expect(fixture.git(fixture.remote, 'show', 'prod:deployment/prod/kustomization.yaml')).toContain(
      `digest: ${STABLE_DIGEST}`,
    );
  });
});

describe('status', () => {
  it('shows phase, message, step, weights, revisions and images like the plugin; exit 0 while paused', async () => {
    api.put(rolloutObject({ ...pausedAtStep, phase: 'Paused', message: 'CanaryPauseStep' }));
    const result = await run('status', 'prod', '--json');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      phase: 'Paused',
      message: 'CanaryPauseStep',
      step: { current: 1, total: 6 },
      desiredWeight: 20,
      actualWeight: 20,
      stable: { revision: 'stable1', image: `127.0.0.1:5000/hello:v1@${STABLE_DIGEST}` },
      canary: { revision: 'canary2', image: `127.0.0.1:5000/hello:v2@${CANARY_DIGEST}` },
    });
  });

  it("exit 4 when Degraded, with the plugin's RolloutAborted message", async () => {
    api.put(
      rolloutObject({
        abort: true,
        conditions: [
          { type: 'Progressing', reason: 'RolloutAborted', message: 'Rollout aborted update to revision 2' },
        ],
      }),
    );
    const result = await run('status', 'prod');
    expect(result.code).toBe(4);
    expect(result.stdout).toContain('Status:    Degraded - RolloutAborted: Rollout aborted update to revision 2');
    expect(result.stderr).toBe(
      'shipway: rollout hello is Degraded: RolloutAborted: Rollout aborted update to revision 2\n',
    );
  });
});

describe('wait', () => {
  // wait has no polling loop: only the watch can deliver the change, so an answer at all shows it.
  // (How fast it answers is a figure for a bench, not an assertion here.)
  it('returns on the change it waits for (a pause: {} step), delivered by the watch', async () => {
    api.put(rolloutObject({ currentStepIndex: 0, updatedReplicas: 1 }));
    const waiting = run('wait', 'prod', '--for', 'paused', '--timeout', '20s');
    await new Promise((resolve) => setTimeout(resolve, 700));
    api.update('hello-prod', 'hello', (rollout) => ({
      ...rollout,
      status: { ...(rollout.status as object), ...pausedAtStep },
    }));
    const result = await waiting;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('hello: Paused at step 1/6\n');
  });

  it('waits for a step number', async () => {
    api.put(rolloutObject({ currentStepIndex: 2 }));
    const waiting = run('wait', 'prod', '--for', 'step=4', '--timeout', '20s');
    await new Promise((resolve) => setTimeout(resolve, 300));
    api.update('hello-prod', 'hello', (rollout) => ({
      ...rollout,
      status: { ...(rollout.status as object), currentStepIndex: 4 },
    }));
    expect((await waiting).code).toBe(0);
  });

  it('--for digest= waits until GitOps has synced the release, even past a Degraded previous one', async () => {
    const previous = rolloutObject(
      {
        currentStepIndex: 2,
        abort: true,
        conditions: [{ type: 'Progressing', reason: 'RolloutAborted', message: 'x' }],
      },
      { template: { spec: { containers: [{ name: 'hello', image: `127.0.0.1:5000/hello:v1@${STABLE_DIGEST}` }] } } },
    );
    api.put(previous);
    const waiting = run('wait', 'prod', '--for', `digest=${CANARY_DIGEST}`, '--timeout', '20s');
    await new Promise((resolve) => setTimeout(resolve, 300));
    api.put(rolloutObject({ currentStepIndex: 0 }));
    const result = await waiting;
    expect(result.code, result.stderr).toBe(0);
  });

  it('--for paused,healthy returns on either (a first release goes straight to Healthy)', async () => {
    api.put(rolloutObject({ currentStepIndex: 0 }));
    const waiting = run('wait', 'prod', '--for', 'paused,healthy', '--timeout', '20s');
    await new Promise((resolve) => setTimeout(resolve, 300));
    api.update('hello-prod', 'hello', (rollout) => ({
      ...rollout,
      status: { ...(rollout.status as object), ...pausedAtStep },
    }));
    expect((await waiting).code).toBe(0);
    const timedOut = await run('wait', 'prod', '--for', 'healthy,step=5', '--timeout', '300ms');
    expect(timedOut.stderr).toContain('waiting for healthy or step 5');
  });

  it('times out with exit 4, saying what it last saw', async () => {
    api.put(rolloutObject(pausedAtStep));
    const result = await run('wait', 'prod', '--for', 'healthy', '--timeout', '400ms');
    expect(result.code).toBe(4);
    expect(result.stderr).toBe(
      'shipway: timed out after 400 ms waiting for healthy; last seen: Paused (CanaryPauseStep), step 1/6\n',
    );
  });

  it('fails with exit 4 as soon as the rollout is Degraded', async () => {
    api.put(rolloutObject({ currentStepIndex: 2 }));
    const waiting = run('wait', 'prod', '--for', 'healthy', '--timeout', '20s');
    await new Promise((resolve) => setTimeout(resolve, 300));
    api.update('hello-prod', 'hello', (rollout) => ({
      ...rollout,
      status: {
        ...(rollout.status as object),
        abort: true,
        conditions: [{ type: 'Progressing', reason: 'RolloutAborted', message: 'metric "error-rate" assessed Failed' }],
      },
    }));
    const result = await waiting;
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('is Degraded: RolloutAborted: metric "error-rate" assessed Failed');
  });
});

describe('bad input: exit 2 or 3, one line naming what to fix, nothing patched', () => {
  beforeEach(() => {
    api.put(rolloutObject(pausedAtStep));
  });

  it('unknown environment → 2', async () => {
    const result = await run('promote', 'qa');
    expect([result.code, result.stderr.split('\n')[0]]).toEqual([2, 'shipway: unknown environment "qa"']);
  });

  it('environment without a rollout → 2', async () => {
    const yaml = (await import('node:fs'))
      .readFileSync(join(fixture.work, 'shipway.yaml'), 'utf8')
      .replace('    rollout: { name: hello, strategy: rolling }\n  - name: stage', '  - name: stage');
    writeFileSync(join(fixture.work, 'shipway.yaml'), yaml);
    const result = await run('promote', 'dev');
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'shipway: environment dev has no rollout in shipway.yaml\n  hint: add environments[].rollout (name, strategy) for dev\n',
    );
  });

  it('unreadable kubeconfig → 2', async () => {
    const result = await shipway(fixture.work, [
      'rollout',
      'promote',
      'prod',
      '--kubeconfig',
      join(fixture.root, 'missing'),
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^shipway: cannot read the kubeconfig .*missing \(--kubeconfig\)/);
  });

  it('invalid kubeconfig → 2, and its content is not printed', async () => {
    writeFileSync(
      kubeconfig,
      'apiVersion: v1\nkind: Config\nusers: [{name: x, user: {token: SECRET-TOKEN}}]\ncurrent-context: nowhere\n',
    );
    const result = await run('promote', 'prod');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^shipway: the kubeconfig from --kubeconfig (is not valid|has no current context)/);
    expect(result.stderr).not.toContain('SECRET-TOKEN');
  });

  it('the base64 KUBE_CONFIG of the original pipeline still works', async () => {
    const result = await shipway(fixture.work, ['rollout', 'status', 'prod'], {
      KUBE_CONFIG: Buffer.from(api.kubeconfig()).toString('base64'),
    });
    expect(result.code, result.stderr).toBe(0);
  });

  it('API unreachable → 3', async () => {
    writeFileSync(kubeconfig, api.kubeconfig().replace(api.url, 'https://127.0.0.1:9'));
    const result = await run('promote', 'prod');
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/^shipway: cannot reach the Kubernetes API to get rollout hello: .*ECONNREFUSED/);
  });

  it('RBAC 403 → 3, naming the verbs and resources the service account needs', async () => {
    api.forbidden.add('patch rollouts/status');
    const result = await run('promote', 'prod');
    expect(result.code).toBe(3);
    expect(result.stderr).toBe(
      'shipway: the Kubernetes API refused to patch rollouts/status hello in namespace hello-prod (HTTP 403)\n  hint: grant the service account get, list, watch and patch on rollouts and rollouts/status (argoproj.io), and list on replicasets (apps) in hello-prod\n',
    );
    expect(api.patches.filter((patch) => patch.status === 200)).toEqual([]);
  });
});
