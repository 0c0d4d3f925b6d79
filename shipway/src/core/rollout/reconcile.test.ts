import { describe, expect, it } from 'vitest';
import { type AnalysisRunState, type ReconcileInput, type RevisionState, reconcile } from './reconcile.js';
import type { Rollout, RolloutStatus } from './rollout-object.js';

// One case per Argo Rollouts behaviour; each names the v1.9.1 source it follows.
const T0 = Date.parse('2025-01-01T00:00:00Z');
const STEPS = [
  { setWeight: 20 },
  { pause: {} },
  { setWeight: 50 },
  { pause: { duration: '30s' } },
  { analysis: { templates: [{ templateName: 'checks' }] } },
];

function rollout(status: RolloutStatus, spec: Partial<Rollout['spec']> = {}): Rollout {
  return {
    metadata: { name: 'hello', namespace: 'prod', generation: 1 },
    spec: {
      replicas: 5,
      template: { spec: { containers: [{ name: 'hello', image: 'registry/hello@sha256:2' }] } },
      strategy: { canary: { maxSurge: 1, maxUnavailable: 0, steps: STEPS } },
      ...spec,
    },
    status,
  };
}

const rs = (hash: string, replicas: number, available = replicas, created = replicas): RevisionState => ({
  hash,
  replicas,
  created,
  available,
  progressSince: T0,
});

/** A canary of revision `new` over stable `old`, at `step`. */
function input(status: RolloutStatus, revisions: RevisionState[], extra: Partial<ReconcileInput> = {}): ReconcileInput {
  return {
    rollout: rollout({ currentPodHash: 'new', stableRS: 'old', currentStepIndex: 0, ...status }),
    templateHash: 'new',
    revisions,
    runs: new Map(),
    now: T0 + 1000,
    ...extra,
  };
}

describe('setWeight (rollout/canary.go reconcileCanaryReplicaSets, utils/replicaset/canary.go)', () => {
  it('scales the new ReplicaSet up within maxSurge, then the stable down once the canary is available, then advances', () => {
    const first = reconcile(input({}, [rs('old', 5), rs('new', 0)]));
    expect(Object.fromEntries(first.replicas)).toEqual({ old: 5, new: 1 });
    expect(first.status.currentStepIndex).toBe(0);
    const second = reconcile(input({}, [rs('old', 5), rs('new', 1, 1)]));
    expect(Object.fromEntries(second.replicas)).toEqual({ old: 4, new: 1 });
    const third = reconcile(input({}, [rs('old', 4), rs('new', 1)]));
    expect(third.status.currentStepIndex).toBe(1);
    expect(third.progressed).toBe('new');
  });

  it('does not advance while the canary pod is not available (AtDesiredReplicaCountsForCanary)', () => {
    const waiting = reconcile(input({}, [rs('old', 4), rs('new', 1, 0)]));
    expect(waiting.status.currentStepIndex).toBe(0);
  });
});

describe('pause (rollout/canary.go reconcileCanaryPause, rollout/pause.go CompletedCanaryPauseStep)', () => {
  const at = [rs('old', 4), rs('new', 1)];
  it('pause {} adds CanaryPauseStep and waits; a promote (condition cleared, controllerPause kept) advances', () => {
    const paused = reconcile(input({ currentStepIndex: 1 }, at));
    expect(paused.status).toMatchObject({
      phase: 'Paused',
      message: 'CanaryPauseStep',
      controllerPause: true,
      pauseConditions: [{ reason: 'CanaryPauseStep', startTime: new Date(T0 + 1000).toISOString() }],
    });
    const later = reconcile(input({ ...paused.status }, at, { now: T0 + 3_600_000 }));
    expect(later.status.currentStepIndex).toBe(1);
    const promoted = reconcile(input({ ...paused.status, pauseConditions: undefined }, at));
    expect(promoted.status.currentStepIndex).toBe(2);
    expect(promoted.status.controllerPause).toBeUndefined();
  });

  it('a timed pause resumes by itself once its duration has passed since the condition started', () => {
    // 50 % of 5 with maxSurge 1 is 3 + 3 (approximateWeightedCanaryStableReplicaCounts).
    const at50 = [rs('old', 3), rs('new', 3)];
    const started = reconcile(input({ currentStepIndex: 3 }, at50)).status;
    expect(reconcile(input(started, at50, { now: T0 + 1000 + 30_000 })).status.currentStepIndex).toBe(3);
    expect(reconcile(input(started, at50, { now: T0 + 1000 + 30_001 })).status.currentStepIndex).toBe(4);
  });
});

describe('analysis step (rollout/analysis.go reconcileStepBasedAnalysisRun, needsNewAnalysisRun)', () => {
  const at = [rs('old', 3), rs('new', 3)];
  // The run in progress is the one the status names (analysisutil.FilterCurrentRolloutAnalysisRuns).
  const current = { canary: { currentStepAnalysisRunStatus: { name: 'hello-new-4' } } };
  const step = (phase: AnalysisRunState['phase'], message?: string, status: RolloutStatus = current) =>
    reconcile(
      input({ currentStepIndex: 4, ...status }, at, {
        runs: new Map([['hello-new-4', { phase, message }]]),
      }),
    );

  it('asks for a run named <rollout>-<hash>-<step> and waits for it', () => {
    const pending = reconcile(input({ currentStepIndex: 4 }, at));
    expect(pending.runs).toEqual([expect.objectContaining({ name: 'hello-new-4', where: 'steps[4].analysis' })]);
    expect(pending.status.currentStepIndex).toBe(4);
    expect(step('Running').status.currentStepIndex).toBe(4);
  });

  it('Successful completes the step', () => {
    expect(step('Successful').status.currentStepIndex).toBe(5);
  });

  it('Failed aborts with the run message, the runs stop and the canary scales to zero', () => {
    const failed = step('Failed', 'Metric "error-rate" assessed Failed due to failed (2) > failureLimit (1)');
    expect(failed.status).toMatchObject({
      phase: 'Degraded',
      abort: true,
      message:
        'RolloutAborted: Rollout aborted update to revision new: Step-based analysis phase error/failed: Metric "error-rate" assessed Failed due to failed (2) > failureLimit (1)',
    });
    expect(failed.runs).toEqual([]);
    // GetCanaryReplicasOrWeight: weight 0; the canary goes within maxSurge/maxUnavailable, a pod at a time.
    expect(Object.fromEntries(reconcile(input(failed.status, at)).replicas)).toEqual({ old: 3, new: 2 });
    const stableBack = [rs('old', 5), rs('new', 3)];
    expect(Object.fromEntries(reconcile(input(failed.status, stableBack)).replicas)).toEqual({ old: 5, new: 0 });
  });

  it('Inconclusive pauses (InconclusiveAnalysisRun) and reports the run; a promote then asks for a new run', () => {
    const inconclusive = step('Inconclusive');
    expect(inconclusive.status).toMatchObject({
      phase: 'Paused',
      message: 'InconclusiveAnalysisRun',
      currentStepIndex: 4,
      canary: { currentStepAnalysisRunStatus: { name: 'hello-new-4', status: 'Inconclusive' } },
    });
    const promoted = step('Inconclusive', undefined, { ...inconclusive.status, pauseConditions: undefined });
    expect(promoted.runs.map((run) => run.name)).toEqual(['hello-new-4.1']);
  });
});

describe('abort and retry (rollout/canary.go syncRolloutStatusCanary, utils/replicaset GetCanaryReplicasOrWeight)', () => {
  it('a user abort is Degraded / RolloutAborted and sends the weight to 0', () => {
    const aborted = reconcile(input({ currentStepIndex: 2, abort: true }, [rs('old', 4), rs('new', 1)]));
    expect(aborted.status).toMatchObject({
      phase: 'Degraded',
      message: 'RolloutAborted: Rollout aborted update to revision new',
      abortedAt: new Date(T0 + 1000).toISOString(),
    });
    expect(Object.fromEntries(aborted.replicas)).toEqual({ old: 5, new: 1 });
  });

  it('a retry runs the steps again from the first, with a fresh AnalysisRun for a failed step', () => {
    const retried = reconcile(
      input(
        { currentStepIndex: 4, abort: false, abortedAt: new Date(T0).toISOString() },
        [rs('old', 5), rs('new', 0)],
        {
          runs: new Map([['hello-new-4', { phase: 'Failed' }]]),
        },
      ),
    );
    expect(retried.status).toMatchObject({ currentStepIndex: 0, phase: 'Progressing' });
    expect(retried.status.abortedAt).toBeUndefined();
    const atAnalysis = reconcile(
      input(
        { currentStepIndex: 4, abortedAt: new Date(T0).toISOString(), abort: false },
        [rs('old', 2), rs('new', 3)],
        {
          runs: new Map([['hello-new-4', { phase: 'Failed' }]]),
        },
      ),
    );
    expect(atAnalysis.status.currentStepIndex).toBe(0);
  });
});

describe('promoteFull and promotion (rollout/canary.go shouldFullPromote, promoteStable)', () => {
  it('promoteFull goes to 100 % and the new revision becomes stable once all its replicas are available', () => {
    const going = reconcile(input({ currentStepIndex: 1, promoteFull: true }, [rs('old', 4), rs('new', 1)]));
    expect(Object.fromEntries(going.replicas)).toEqual({ old: 4, new: 2 });
    const done = reconcile(input({ currentStepIndex: 1, promoteFull: true }, [rs('old', 0, 0, 0), rs('new', 5)]));
    expect(done.status).toMatchObject({ stableRS: 'new', currentStepIndex: 5, phase: 'Healthy' });
    expect(done.status.promoteFull).toBeUndefined();
  });
});

describe('progress deadline (rollout/sync.go calculateRolloutConditions, utils/conditions RolloutTimedOut)', () => {
  const stuck = [rs('old', 5), rs('new', 1, 0)];
  it('no progress for progressDeadlineSeconds while pods are unavailable is ProgressDeadlineExceeded, aborted when asked', () => {
    const spec = { progressDeadlineSeconds: 60, progressDeadlineAbort: true };
    const base = input({}, stuck);
    const early = reconcile({ ...base, rollout: rollout(base.rollout.status ?? {}, spec), now: T0 + 59_000 });
    expect(early.status.phase).toBe('Progressing');
    const late = reconcile({ ...base, rollout: rollout(base.rollout.status ?? {}, spec), now: T0 + 61_000 });
    expect(late.status).toMatchObject({
      phase: 'Degraded',
      abort: true,
      message: 'ProgressDeadlineExceeded: ReplicaSet "hello-new" has timed out progressing.',
    });
  });
  it('the default deadline is 600 s, and a paused Rollout does not time out', () => {
    expect(reconcile(input({}, stuck, { now: T0 + 599_000 })).status.phase).toBe('Progressing');
    expect(reconcile(input({}, stuck, { now: T0 + 601_000 })).status.phase).toBe('Degraded');
    const paused = { pauseConditions: [{ reason: 'CanaryPauseStep', startTime: 'x' }], controllerPause: true };
    expect(reconcile(input(paused, stuck, { now: T0 + 601_000 })).status.phase).toBe('Paused');
  });
});

describe('new revisions (rollout/sync.go resetRolloutStatus, canary.go scaleDownOldReplicaSetsForCanary)', () => {
  it('a new template during a canary starts the steps again and scales the intermediate revision down', () => {
    const status = {
      currentStepIndex: 2,
      pauseConditions: [{ reason: 'CanaryPauseStep', startTime: 'x' }],
      controllerPause: true,
    };
    const next = reconcile(input(status, [rs('old', 4), rs('new', 1)], { templateHash: 'newer' }));
    expect(next.status).toMatchObject({
      currentPodHash: 'newer',
      stableRS: 'old',
      currentStepIndex: 0,
      conditions: [],
    });
    expect(next.status.pauseConditions).toBeUndefined();
    // The new revision surges first; the intermediate one goes once that keeps 5 available.
    expect(Object.fromEntries(next.replicas)).toEqual({ old: 4, new: 1, newer: 1 });
    const later = reconcile(
      input(next.status, [rs('old', 4), rs('new', 1), rs('newer', 1)], { templateHash: 'newer' }),
    );
    expect(Object.fromEntries(later.replicas)).toEqual({ old: 4, new: 0, newer: 1 });
  });
  it('the first revision and a revert to the stable template skip the steps', () => {
    const first = reconcile({ ...input({}, []), rollout: rollout({}), templateHash: 'one' });
    expect(first.status).toMatchObject({ stableRS: 'one', currentPodHash: 'one', currentStepIndex: 5 });
    expect(Object.fromEntries(first.replicas)).toEqual({ one: 5 });
    const revert = reconcile(input({ currentStepIndex: 1 }, [rs('old', 4), rs('new', 1)], { templateHash: 'old' }));
    expect(revert.status).toMatchObject({ stableRS: 'old', currentPodHash: 'old', currentStepIndex: 5 });
  });
});

describe('InvalidSpec (rollout/sync.go: an invalid spec is reported, nothing scales)', () => {
  it('names the field and leaves every ReplicaSet as it is', () => {
    const result = reconcile({
      ...input({}, [rs('old', 5)]),
      rollout: rollout(
        { stableRS: 'old', currentPodHash: 'old' },
        {
          template: { spec: { containers: [{ name: 'a', image: 'x', volumeMounts: [] }] } },
        },
      ),
    });
    expect(result.status.message).toBe(
      'InvalidSpec: spec.template.spec.containers[0].volumeMounts: volumes are not supported by the embedded cluster',
    );
    expect(Object.fromEntries(result.replicas)).toEqual({ old: 5 });
    expect(result.runs).toEqual([]);
  });
});
