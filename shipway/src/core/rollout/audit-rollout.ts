import { auditPodSpec } from '../pod/audit-pod-spec.js';
import type { Rollout } from './rollout-object.js';

const STEP_KINDS = new Set(['setWeight', 'pause', 'analysis']);

/**
 * What in a Rollout the embedded cluster cannot run faithfully, named by its path, or
 * undefined: the pod spec (audit-pod-spec.ts), a blue-green strategy, step kinds other than
 * setWeight, pause and analysis. Reported as InvalidSpec, never ignored.
 */
export function auditRollout(rollout: Rollout): string | undefined {
  const pod = auditPodSpec(rollout.spec.template?.spec);
  if (pod !== undefined) return pod;
  if (rollout.spec.strategy?.blueGreen !== undefined)
    return 'spec.strategy.blueGreen: the embedded cluster runs canary rollouts only';
  const canary = rollout.spec.strategy?.canary;
  if (canary?.trafficRouting !== undefined)
    return 'spec.strategy.canary.trafficRouting: the embedded cluster splits traffic by pod counts only';
  for (const [index, step] of (canary?.steps ?? []).entries()) {
    const kind = Object.keys(step).find((key) => !STEP_KINDS.has(key));
    if (kind !== undefined)
      return `spec.strategy.canary.steps[${index}].${kind}: step not supported by the embedded cluster`;
  }
  return undefined;
}
