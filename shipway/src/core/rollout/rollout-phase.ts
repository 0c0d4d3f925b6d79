import { currentCanaryStep, type Rollout } from './rollout-object.js';

export type RolloutPhase = 'Healthy' | 'Progressing' | 'Paused' | 'Degraded';

/**
 * Phase and message as `kubectl argo rollouts status` shows them: GetRolloutPhase and
 * CalculateRolloutPhase in argo-rollouts utils/rollout/rolloututil.go, rule for rule, in order.
 */
export function rolloutPhase(rollout: Rollout): { phase: RolloutPhase; message: string } {
  const status = rollout.status ?? {};
  if (!generationObserved(rollout))
    return { phase: 'Progressing', message: 'waiting for rollout spec update to be observed' };
  if (status.controllerPause === true && (status.pauseConditions ?? []).length === 0) {
    return { phase: 'Progressing', message: 'waiting for rollout to unpause' };
  }
  if (status.phase !== undefined && status.phase !== '')
    return { phase: status.phase as RolloutPhase, message: status.message ?? '' };
  return calculatePhase(rollout);
}

function generationObserved(rollout: Rollout): boolean {
  const observed = rollout.status?.observedGeneration;
  if (observed === undefined || !/^\d+$/.test(observed)) return true;
  const generation = rollout.metadata.generation ?? 0;
  return Number(observed) >= generation;
}

export function calculatePhase(rollout: Rollout): { phase: RolloutPhase; message: string } {
  const { spec } = rollout;
  const status = rollout.status ?? {};
  for (const condition of status.conditions ?? []) {
    if (condition.type === 'InvalidSpec')
      return { phase: 'Degraded', message: `InvalidSpec: ${condition.message ?? ''}` };
    if (condition.reason === 'RolloutAborted' || condition.reason === 'ProgressDeadlineExceeded') {
      return { phase: 'Degraded', message: `${condition.reason}: ${condition.message ?? ''}` };
    }
  }
  if (spec.paused === true) return { phase: 'Paused', message: 'manually paused' };
  const pause = (status.pauseConditions ?? [])[0];
  if (pause !== undefined) return { phase: 'Paused', message: pause.reason };
  if (
    spec.restartAt !== undefined &&
    (status.restartedAt === undefined || Date.parse(spec.restartAt) !== Date.parse(status.restartedAt))
  ) {
    return { phase: 'Progressing', message: 'rollout is restarting' };
  }
  if ((status.updatedReplicas ?? 0) < (spec.replicas ?? 1))
    return { phase: 'Progressing', message: 'more replicas need to be updated' };
  if ((status.availableReplicas ?? 0) < (status.updatedReplicas ?? 0)) {
    return { phase: 'Progressing', message: 'updated replicas are still becoming available' };
  }
  const fullyPromoted =
    status.stableRS !== undefined && status.stableRS !== '' && status.stableRS === status.currentPodHash;
  const blueGreen = spec.strategy?.blueGreen;
  if (blueGreen !== undefined) {
    const active = status.blueGreen?.activeSelector ?? '';
    if (active === '' || active !== status.currentPodHash)
      return { phase: 'Progressing', message: 'active service cutover pending' };
    if (!fullyPromoted) {
      const analysis = status.blueGreen?.postPromotionAnalysisRunStatus?.status;
      const waiting =
        blueGreen.postPromotionAnalysis !== undefined &&
        !['Successful', 'Failed', 'Error', 'Inconclusive'].includes(analysis ?? '');
      return {
        phase: 'Progressing',
        message: waiting ? 'waiting for analysis to complete' : 'waiting for post-promotion verification to complete',
      };
    }
  } else if (spec.strategy?.canary !== undefined) {
    if (spec.strategy.canary.trafficRouting === undefined && (status.replicas ?? 0) > (status.updatedReplicas ?? 0)) {
      return { phase: 'Progressing', message: 'old replicas are pending termination' };
    }
    if (!fullyPromoted) return { phase: 'Progressing', message: 'waiting for all steps to complete' };
  }
  return { phase: 'Healthy', message: '' };
}

/** The weight the current step asks for: the last setWeight at or before it; 100 once promoted. */
export function desiredWeight(rollout: Rollout): number {
  const status = rollout.status ?? {};
  if (status.stableRS !== undefined && status.stableRS === status.currentPodHash) return 100;
  if (status.abort === true) return 0;
  const current = currentCanaryStep(rollout);
  if (current === undefined) return 100;
  const steps = rollout.spec.strategy?.canary?.steps ?? [];
  let weight = 0;
  for (let i = 0; i <= Math.min(current.index, steps.length - 1); i += 1) {
    const set = steps[i]?.setWeight;
    if (set !== undefined && i <= current.index) weight = set;
  }
  return current.index >= steps.length ? 100 : weight;
}
