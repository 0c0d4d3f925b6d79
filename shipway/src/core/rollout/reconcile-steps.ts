import { pauseSeconds } from './canary-math.js';
import type { AnalysisContext } from './reconcile-analysis.js';
import { atDesiredCounts, type BasicCanaryInput } from './replica-math.js';

function hasPause(context: AnalysisContext, reason: string): boolean {
  return (context.status.pauseConditions ?? []).some((pause) => pause.reason === reason);
}

/**
 * reconcileCanaryPause plus pauseContext.CompletedCanaryPauseStep (rollout/canary.go and
 * rollout/pause.go, v1.9.1): the first visit adds the CanaryPauseStep condition and sets
 * controllerPause; a promote removes the condition and leaves controllerPause, which completes
 * the step; a timed pause completes once its duration has passed since the condition's start.
 */
function completedPause(context: AnalysisContext, duration: string | number | undefined): boolean {
  const { status } = context;
  const condition = (status.pauseConditions ?? []).find((pause) => pause.reason === 'CanaryPauseStep');
  if (condition === undefined) {
    if (status.controllerPause === true) return true;
    const startTime = new Date(context.now).toISOString();
    status.pauseConditions = [...(status.pauseConditions ?? []), { reason: 'CanaryPauseStep', startTime }];
    status.controllerPause = true;
    return false;
  }
  const seconds = pauseSeconds(duration);
  const started = Date.parse(condition.startTime ?? '');
  return seconds !== undefined && seconds > 0 && context.now > started + seconds * 1000;
}

/**
 * completedCurrentCanaryStep and the step advance of syncRolloutStatusCanary (rollout/canary.go):
 * setWeight completes at the desired replica counts (AtDesiredReplicaCountsForCanary), pause as
 * above, analysis when its run is Successful (`analysisDone`, from reconcileStepAnalysis, which
 * runs earlier in the pass as reconcileAnalysisRuns does). Advancing clears the step's run status
 * and the CanaryPauseStep condition. Returns whether the step advanced.
 */
export function reconcileCurrentStep(
  context: AnalysisContext,
  counts: BasicCanaryInput,
  analysisDone: boolean,
): boolean {
  const { rollout, status } = context;
  const index = status.currentStepIndex ?? 0;
  const step = rollout.spec.strategy?.canary?.steps?.[index];
  if (step === undefined || rollout.spec.paused === true) return false;
  let completed = false;
  if (step.setWeight !== undefined) completed = atDesiredCounts(counts);
  else if (step.pause !== undefined) completed = completedPause(context, step.pause.duration);
  else if (step.analysis !== undefined) completed = analysisDone;
  if (!completed || status.abort === true || hasPause(context, 'InconclusiveAnalysisRun')) return false;
  status.currentStepIndex = index + 1;
  status.pauseConditions = (status.pauseConditions ?? []).filter((pause) => pause.reason !== 'CanaryPauseStep');
  if (status.pauseConditions.length === 0) {
    status.pauseConditions = undefined;
    status.controllerPause = undefined;
  }
  if (status.canary !== undefined) status.canary = { ...status.canary, currentStepAnalysisRunStatus: undefined };
  return true;
}
