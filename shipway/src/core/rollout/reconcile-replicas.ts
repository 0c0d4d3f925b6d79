import {
  type BasicCanaryInput,
  basicCanaryCounts,
  fenceposts,
  type ReplicaSetCounts,
  scaleDownOld,
} from './replica-math.js';
import type { Rollout, RolloutStatus } from './rollout-object.js';
import { desiredWeight } from './rollout-phase.js';

/** One revision (ReplicaSet) of the Rollout as the controller sees it now. */
export interface RevisionState extends ReplicaSetCounts {
  readonly hash: string;
  /** When the revision last made progress (ms), for progressDeadlineSeconds. */
  readonly progressSince?: number | undefined;
}

/** The basic-canary view of the revisions: new, stable (when it is another one) and the rest. */
export function canaryInput(
  rollout: Rollout,
  status: RolloutStatus,
  revisions: readonly RevisionState[],
): BasicCanaryInput {
  const replicas = rollout.spec.replicas ?? 1;
  const canary = rollout.spec.strategy?.canary;
  const { surge, unavailable } = fenceposts(replicas, canary?.maxSurge, canary?.maxUnavailable);
  const find = (hash: string | undefined) => revisions.find((revision) => revision.hash === hash);
  const newRS = find(status.currentPodHash);
  const stableRS = status.stableRS === status.currentPodHash ? undefined : find(status.stableRS);
  const others = revisions.filter((revision) => revision !== newRS && revision !== stableRS);
  // GetCanaryReplicasOrWeight: full weight once promoted (or promoting), none while aborted.
  const inFlight = status.currentPodHash !== status.stableRS;
  const weight =
    !inFlight || status.promoteFull === true ? 100 : status.abort === true ? 0 : desiredWeight({ ...rollout, status });
  return { replicas, weight, surge, unavailable, newRS, stableRS, others };
}

/**
 * reconcileCanaryReplicaSets (rollout/canary.go, v1.9.1), one scaling at a time as Argo does
 * it: the stable ReplicaSet first, then the new one, then the older ones
 * (scaleDownOldReplicaSetsForCanary); the first that changes ends the pass (`scaled`), so the
 * next pass sees the pods that change made. Returns every revision's spec.replicas.
 */
export function reconcileReplicaSets(
  input: BasicCanaryInput,
  revisions: readonly RevisionState[],
  hash: string | undefined,
): { replicas: Map<string, number>; scaled: boolean } {
  const replicas = new Map(revisions.map((revision) => [revision.hash, revision.replicas]));
  if (hash !== undefined && !replicas.has(hash)) replicas.set(hash, 0);
  const want = basicCanaryCounts(input);
  const stableHash = revisions.find((revision) => revision === input.stableRS)?.hash;
  if (stableHash !== undefined && input.stableRS?.replicas !== want.stableRS) {
    replicas.set(stableHash, want.stableRS);
    return { replicas, scaled: true };
  }
  if (hash !== undefined && (input.newRS?.replicas ?? 0) !== want.newRS) {
    replicas.set(hash, want.newRS);
    return { replicas, scaled: true };
  }
  const available = revisions.reduce((sum, revision) => sum + revision.available, 0);
  const old = scaleDownOld(input.others, available, input.replicas - input.unavailable);
  let scaled = false;
  for (const [index, count] of old.entries()) {
    const other = input.others[index];
    const otherHash = revisions.find((revision) => revision === other)?.hash;
    if (otherHash === undefined || other?.replicas === count) continue;
    replicas.set(otherHash, count);
    scaled = true;
  }
  return { replicas, scaled };
}
