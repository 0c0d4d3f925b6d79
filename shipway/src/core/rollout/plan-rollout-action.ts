import { currentCanaryStep, type Rollout } from './rollout-object.js';

export type RolloutVerb = 'promote' | 'promote-full' | 'abort' | 'retry' | 'pause';

/** One JSON merge patch, to the `status` subresource or the Rollout itself. */
export interface RolloutPatch {
  readonly target: 'status' | 'main';
  readonly body: Readonly<Record<string, unknown>>;
}

export type RolloutPlan =
  | { readonly kind: 'patches'; readonly patches: readonly RolloutPatch[] }
  | { readonly kind: 'noop'; readonly reason: string }
  | { readonly kind: 'refused'; readonly code: string; readonly reason: string; readonly hint: string };

/** The canary's image digest: from the pod template's first container (`…@sha256:…`). */
export function templateDigest(rollout: Rollout): string | undefined {
  const image = rollout.spec.template?.spec?.containers?.[0]?.image ?? '';
  const at = image.indexOf('@');
  return at === -1 ? undefined : image.slice(at + 1);
}

function isInconclusive(rollout: Rollout): boolean {
  return (
    rollout.spec.strategy?.canary !== undefined &&
    rollout.status?.canary?.currentStepAnalysisRunStatus?.status === 'Inconclusive'
  );
}

function nextStepIndex(rollout: Rollout): number | undefined {
  const current = currentCanaryStep(rollout);
  if (current === undefined) return undefined;
  const steps = rollout.spec.strategy?.canary?.steps?.length ?? 0;
  return current.index < steps ? current.index + 1 : current.index;
}

/**
 * The plugin's `promote` (argo-rollouts pkg/kubectl-argo-rollouts/cmd/promote/promote.go,
 * getPatches): unpause spec.paused; an inconclusive analysis that paused the controller gets its
 * pause conditions and controllerPause cleared and the step skipped; otherwise pause conditions
 * are cleared; otherwise, for a canary that is not manually paused, the current step is skipped.
 * The status patch goes first, then the spec patch.
 */
function planPromote(rollout: Rollout): RolloutPlan {
  const status = rollout.status ?? {};
  const paused = rollout.spec.paused === true;
  const pauseConditions = (status.pauseConditions ?? []).length;
  const patches: RolloutPatch[] = [];
  const next = nextStepIndex(rollout);
  if (isInconclusive(rollout) && pauseConditions > 0 && status.controllerPause === true && next !== undefined) {
    patches.push({
      target: 'status',
      body: { status: { pauseConditions: null, controllerPause: false, currentStepIndex: next } },
    });
  } else if (pauseConditions > 0) {
    patches.push({ target: 'status', body: { status: { pauseConditions: null } } });
  } else if (rollout.spec.strategy?.canary !== undefined && !paused && next !== undefined) {
    patches.push({ target: 'status', body: { status: { pauseConditions: null, currentStepIndex: next } } });
  }
  if (paused) patches.push({ target: 'main', body: { spec: { paused: false } } });
  if (patches.length === 0) return { kind: 'noop', reason: `rollout ${rollout.metadata.name} has nothing to promote` };
  return { kind: 'patches', patches };
}

export function planRolloutAction(
  rollout: Rollout,
  verb: RolloutVerb,
  options: { expectDigest?: string | undefined } = {},
): RolloutPlan {
  if (options.expectDigest !== undefined && (verb === 'promote' || verb === 'promote-full')) {
    const digest = templateDigest(rollout);
    if (digest !== options.expectDigest) {
      return {
        kind: 'refused',
        code: 'DIGEST_MISMATCH',
        reason: `rollout ${rollout.metadata.name} is rolling out ${digest ?? 'an image without a digest'}, not ${options.expectDigest}`,
        hint: "a newer release replaced the one this job was for; promote from that release's pipeline",
      };
    }
  }
  const status = rollout.status ?? {};
  switch (verb) {
    case 'promote':
      return planPromote(rollout);
    case 'promote-full':
      if (status.currentPodHash !== undefined && status.currentPodHash === status.stableRS) {
        return { kind: 'noop', reason: `rollout ${rollout.metadata.name} is already fully promoted` };
      }
      return { kind: 'patches', patches: [{ target: 'status', body: { status: { promoteFull: true } } }] };
    case 'abort':
      return { kind: 'patches', patches: [{ target: 'status', body: { status: { abort: true } } }] };
    case 'retry':
      return { kind: 'patches', patches: [{ target: 'status', body: { status: { abort: false } } }] };
    case 'pause':
      return { kind: 'patches', patches: [{ target: 'main', body: { spec: { paused: true } } }] };
  }
}
