import { auditRollout } from './audit-rollout.js';
import {
  type AnalysisContext,
  type AnalysisRunRequest,
  type AnalysisRunState,
  invalidRun,
  reconcileBackgroundAnalysis,
  reconcileStepAnalysis,
} from './reconcile-analysis.js';
import { canaryInput, type RevisionState, reconcileReplicaSets } from './reconcile-replicas.js';
import { reconcileCurrentStep } from './reconcile-steps.js';
import { atDesiredCounts } from './replica-math.js';
import type { Rollout, RolloutStatus } from './rollout-object.js';
import { calculatePhase } from './rollout-phase.js';

export type { AnalysisRunRequest, AnalysisRunState } from './reconcile-analysis.js';
export type { RevisionState } from './reconcile-replicas.js';

export interface ReconcileInput {
  /** The Rollout as stored, status included. */
  readonly rollout: Rollout;
  /** rollouts-pod-template-hash of spec.template (canary-math.ts podTemplateHash). */
  readonly templateHash: string;
  /** Every ReplicaSet of the Rollout, oldest first. */
  readonly revisions: readonly RevisionState[];
  /** The Rollout's AnalysisRuns by name. */
  readonly runs: ReadonlyMap<string, AnalysisRunState>;
  readonly now: number;
}

export interface ReconcileResult {
  readonly status: RolloutStatus;
  /** spec.replicas of every revision; a revision the controller has no ReplicaSet for yet gets one. */
  readonly replicas: ReadonlyMap<string, number>;
  /** The revision that made progress in this pass (its progress clock restarts). */
  readonly progressed: string | undefined;
  /** The AnalysisRuns that should be running; any other run of the Rollout is terminated. */
  readonly runs: readonly AnalysisRunRequest[];
}

const DEFAULT_PROGRESS_DEADLINE_SECONDS = 600;

/**
 * resetRolloutStatus for a new pod template (rollout/sync.go and canary.go
 * syncRolloutStatusCanary, v1.9.1): the steps start again; the first revision (no stable yet:
 * shouldFullPromote "Initial deploy") and a return to the stable template (SkipSteps "Rollback
 * to stable ReplicaSets") skip them.
 */
function newRevision(status: RolloutStatus, hash: string, steps: number): void {
  Object.assign(status, {
    currentPodHash: hash,
    pauseConditions: undefined,
    controllerPause: undefined,
    promoteFull: undefined,
    abort: undefined,
    abortedAt: undefined,
    canary: undefined,
    conditions: [],
  });
  if (status.stableRS === undefined || status.stableRS === hash) {
    status.stableRS = hash;
    status.currentStepIndex = steps;
  } else {
    status.currentStepIndex = 0;
  }
}

/** pauseContext.AddAbort: Degraded with RolloutAborted; pauses end. */
function abort(status: RolloutStatus, now: number, message: string): void {
  Object.assign(status, { abort: true, abortedAt: new Date(now).toISOString(), pauseConditions: undefined });
  status.controllerPause = undefined;
  status.conditions = [{ type: 'Progressing', status: 'False', reason: 'RolloutAborted', message }];
}

/**
 * A retry (status.abort set back to false by `rollout retry`) runs the steps again from the
 * first one; abortedAt stays set for this pass, so needsNewAnalysisRun asks for fresh runs.
 */
function retry(status: RolloutStatus): boolean {
  if (status.abort === true || status.abortedAt === undefined) return false;
  status.currentStepIndex = 0;
  status.canary = undefined;
  status.conditions = (status.conditions ?? []).filter((condition) => condition.reason !== 'RolloutAborted');
  return true;
}

/**
 * shouldFullPromote and promoteStable (rollout/canary.go, sync.go): once every step is done, or
 * a full promotion was asked for, and the new ReplicaSet has all its replicas available, it
 * becomes the stable one.
 */
function promoteWhenReady(status: RolloutStatus, steps: number, replicas: number, newAvailable: number): boolean {
  const done = (status.currentStepIndex ?? 0) >= steps || status.promoteFull === true;
  if (!done || newAvailable < replicas) return false;
  Object.assign(status, { stableRS: status.currentPodHash, currentStepIndex: steps, promoteFull: undefined });
  status.pauseConditions = undefined;
  status.controllerPause = undefined;
  if (status.canary !== undefined) status.canary = { ...status.canary, currentStepAnalysisRunStatus: undefined };
  return true;
}

/**
 * progressDeadlineSeconds (rollout/sync.go calculateRolloutConditions, utils/conditions
 * RolloutTimedOut; default 600): a revision that makes no progress for that long while its pods
 * are not all available is ProgressDeadlineExceeded (Degraded), and aborted when
 * progressDeadlineAbort is set. Paused and aborted Rollouts do not time out.
 */
function checkDeadline(input: ReconcileInput, status: RolloutStatus, atDesired: boolean): void {
  const hash = status.currentPodHash;
  const revision = input.revisions.find((candidate) => candidate.hash === hash);
  const timedOut = (status.conditions ?? []).some((condition) => condition.reason === 'ProgressDeadlineExceeded');
  if (atDesired) {
    if (timedOut) status.conditions = [];
    return;
  }
  if (status.abort === true || (status.pauseConditions ?? []).length > 0 || revision?.progressSince === undefined)
    return;
  const seconds = input.rollout.spec.progressDeadlineSeconds ?? DEFAULT_PROGRESS_DEADLINE_SECONDS;
  if (input.now - revision.progressSince < seconds * 1000) return;
  const message = `ReplicaSet "${input.rollout.metadata.name}-${hash}" has timed out progressing.`;
  if (input.rollout.spec.progressDeadlineAbort === true && hash !== status.stableRS) abort(status, input.now, message);
  status.conditions = [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message }];
}

function countReplicas(status: RolloutStatus, revisions: readonly RevisionState[]): void {
  const current = revisions.find((revision) => revision.hash === status.currentPodHash);
  status.replicas = revisions.reduce((sum, revision) => sum + revision.created, 0);
  status.updatedReplicas = current?.created ?? 0;
  status.readyReplicas = revisions.reduce((sum, revision) => sum + revision.available, 0);
  status.availableReplicas = status.readyReplicas;
}

function finish(input: ReconcileInput, status: RolloutStatus): RolloutStatus {
  if ((status.pauseConditions ?? []).length === 0) {
    status.pauseConditions = undefined;
    status.controllerPause = undefined;
  }
  status.observedGeneration = String(input.rollout.metadata.generation ?? 1);
  const { phase, message } = calculatePhase({
    ...input.rollout,
    status: { ...status, phase: undefined, message: undefined },
  });
  return { ...status, phase, message };
}

/**
 * The embedded cluster's Argo Rollouts controller for a canary without traffic routing, as a
 * pure function: from the Rollout, its ReplicaSets' pod counts, its AnalysisRuns and the time,
 * the next status, every ReplicaSet's replica count and the AnalysisRuns to keep running. The
 * order of a pass follows rollout/canary.go rolloutCanary (v1.9.1): analysis runs, replica
 * sets, pause, step completion, status.
 */
export function reconcile(input: ReconcileInput): ReconcileResult {
  const { rollout, now } = input;
  const status: RolloutStatus = structuredClone(rollout.status ?? {});
  const unchanged = new Map(input.revisions.map((revision) => [revision.hash, revision.replicas]));
  const invalid = auditRollout(rollout);
  if (invalid !== undefined) {
    status.conditions = [{ type: 'InvalidSpec', status: 'True', reason: 'InvalidSpec', message: invalid }];
    return { status: finish(input, status), replicas: unchanged, progressed: undefined, runs: [] };
  }
  const steps = rollout.spec.strategy?.canary?.steps?.length ?? 0;
  const fresh = status.currentPodHash !== input.templateHash;
  if (fresh) newRevision(status, input.templateHash, steps);
  const retried = retry(status);
  const before = { step: status.currentStepIndex, available: status.availableReplicas };
  if (status.currentPodHash !== status.stableRS && status.abort === true && status.abortedAt === undefined)
    abort(status, now, `Rollout aborted update to revision ${status.currentPodHash}`);
  const requests: AnalysisRunRequest[] = [];
  const context: AnalysisContext = {
    rollout: { ...rollout, status },
    status,
    runs: input.runs,
    now,
    requests,
    abort: (message) => abort(status, now, `Rollout aborted update to revision ${status.currentPodHash}: ${message}`),
  };
  const inFlight = status.currentPodHash !== status.stableRS;
  let analysisDone = false;
  if (inFlight && status.abort !== true && status.promoteFull !== true) {
    analysisDone = reconcileStepAnalysis(context, status.currentStepIndex ?? 0);
    reconcileBackgroundAnalysis(context);
  }
  const counts = canaryInput(rollout, status, input.revisions);
  const { replicas, scaled } = reconcileReplicaSets(counts, input.revisions, status.currentPodHash);
  if (retried) status.abortedAt = undefined;
  if (!scaled && inFlight && status.abort !== true && rollout.spec.paused !== true) {
    const available = counts.newRS?.available ?? 0;
    if (!promoteWhenReady(status, steps, rollout.spec.replicas ?? 1, available))
      reconcileCurrentStep(context, counts, analysisDone);
  }
  const invalidAnalysis = invalidRun(requests, input.runs);
  if (invalidAnalysis !== undefined)
    status.conditions = [{ type: 'InvalidSpec', status: 'True', reason: 'InvalidSpec', message: invalidAnalysis }];
  checkDeadline(input, status, !scaled && atDesiredCounts(counts));
  countReplicas(status, input.revisions);
  const progressed =
    fresh ||
    retried ||
    scaled ||
    before.step !== status.currentStepIndex ||
    (status.availableReplicas ?? 0) > (before.available ?? 0);
  return {
    status: finish(input, status),
    replicas,
    progressed: progressed ? status.currentPodHash : undefined,
    runs: status.abort === true ? [] : requests,
  };
}
