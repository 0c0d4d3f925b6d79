import { currentCanaryStep, type Rollout } from './rollout-object.js';
import { desiredWeight, type RolloutPhase, rolloutPhase } from './rollout-phase.js';

export interface RolloutView {
  readonly name: string;
  readonly namespace: string;
  readonly phase: RolloutPhase;
  readonly message: string;
  /** 1-based step being run, and the number of steps; null for a rollout without steps. */
  readonly step: { readonly current: number; readonly total: number } | null;
  readonly desiredWeight: number;
  readonly actualWeight: number;
  readonly aborted: boolean;
  readonly stable: { readonly revision: string | null; readonly image: string | null };
  readonly canary: { readonly revision: string | null; readonly image: string | null };
  readonly replicas: { readonly desired: number; readonly updated: number; readonly available: number };
}

/** What `shipway rollout status` shows, from a Rollout and its stable revision's image. */
export function rolloutView(rollout: Rollout, stableImage: string | null): RolloutView {
  const status = rollout.status ?? {};
  const { phase, message } = rolloutPhase(rollout);
  const steps = rollout.spec.strategy?.canary?.steps?.length ?? 0;
  const current = currentCanaryStep(rollout);
  const fullyPromoted = status.stableRS !== undefined && status.stableRS === status.currentPodHash;
  const updated = status.updatedReplicas ?? 0;
  const total = status.replicas ?? 0;
  return {
    name: rollout.metadata.name,
    namespace: rollout.metadata.namespace ?? '',
    phase,
    message,
    step: current === undefined ? null : { current: Math.min(current.index, steps), total: steps },
    desiredWeight: desiredWeight(rollout),
    // Without traffic routing the split is the share of pods on the canary revision.
    actualWeight: fullyPromoted ? 100 : total === 0 ? 0 : Math.round((100 * updated) / total),
    aborted: status.abort === true,
    stable: { revision: status.stableRS ?? null, image: stableImage },
    canary: {
      revision: status.currentPodHash ?? null,
      image: rollout.spec.template?.spec?.containers?.[0]?.image ?? null,
    },
    replicas: { desired: rollout.spec.replicas ?? 1, updated, available: status.availableReplicas ?? 0 },
  };
}
