import { currentCanaryStep, type Rollout } from './rollout-object.js';

export type RolloutVerb = 'promote' | 'promote-full' | 'abort' | 'retry' | 'pause';

/** One JSON merge patch, to the `status` subresource or the Rollout itself. */
export interface RolloutPatch {
  readonly target: 'status' | 'main';
  readonly body: Readonly<Record<string, unknown>>;
}

export type RolloutPlan =
  | {
      readonly kind: 'patches';
      /** In order: the status patch (if any), then the spec patch (if any). */
      readonly patches: readonly RolloutPatch[];
      /**
       * Sent to the Rollout instead of the spec patch when the status patch answers 404: a
       * cluster whose Rollout CRD has no status subresource (Argo Rollouts v0.9) takes spec and
       * status in one patch (promote.go PromoteRollout, lines 111-127).
       */
      readonly unified: RolloutPatch | null;
    }
  | { readonly kind: 'noop'; readonly reason: string }
  | { readonly kind: 'refused'; readonly code: string; readonly reason: string; readonly hint: string };

/** The canary's image digest: from the pod template's first container (`…@sha256:…`). */
export function templateDigest(rollout: Rollout): string | undefined {
  const image = rollout.spec.template?.spec?.containers?.[0]?.image ?? '';
  const at = image.indexOf('@');
  return at === -1 ? undefined : image.slice(at + 1);
}

/** promote.go isInconclusive (lines 138-140). */
function isInconclusive(rollout: Rollout): boolean {
  return (
    rollout.spec.strategy?.canary !== undefined &&
    rollout.status?.canary?.currentStepAnalysisRunStatus?.status === 'Inconclusive'
  );
}

/**
 * The step index after the current one, as getPatches computes it (lines 177-181, 191-197): the
 * current index plus one, except that an index already at (or past) the end stays where it is.
 * Undefined when GetCurrentCanaryStep returns no index: not a canary, or a canary without steps.
 */
function nextStepIndex(rollout: Rollout): number | undefined {
  const current = currentCanaryStep(rollout);
  if (current === undefined) return undefined;
  const steps = rollout.spec.strategy?.canary?.steps?.length ?? 0;
  return current.index < steps ? current.index + 1 : current.index;
}

/** The three patches getPatches returns; null where it leaves one nil. */
interface PluginPatches {
  readonly spec: Record<string, unknown> | null;
  readonly status: Record<string, unknown> | null;
  readonly unified: Record<string, unknown> | null;
}

const UNPAUSE = { spec: { paused: false } };

/**
 * getPatches' default branch, the plain `promote` (argo-rollouts v1.9.1
 * pkg/kubectl-argo-rollouts/cmd/promote/promote.go, lines 168-201). spec.paused is unpaused
 * whatever else happens (170-172). Then exactly one of: an inconclusive step analysis that paused
 * the controller gets pause conditions and controllerPause cleared and the step advanced (176-183;
 * a canary without steps gets no status patch at all); other pause conditions are cleared
 * (184-185); any other canary with steps, paused by hand or not, advances one step (186-200).
 */
function promotePatches(rollout: Rollout): PluginPatches {
  const status = rollout.status ?? {};
  const spec = rollout.spec.paused === true ? UNPAUSE : null;
  const pauseConditions = (status.pauseConditions ?? []).length;
  const next = nextStepIndex(rollout);
  const unpauseAndClear = { spec: { paused: false }, status: { pauseConditions: null } };
  if (isInconclusive(rollout) && pauseConditions > 0 && status.controllerPause === true) {
    const statusPatch =
      next === undefined ? null : { status: { pauseConditions: null, controllerPause: false, currentStepIndex: next } };
    return { spec, status: statusPatch, unified: unpauseAndClear };
  }
  if (pauseConditions > 0) return { spec, status: { status: { pauseConditions: null } }, unified: unpauseAndClear };
  if (rollout.spec.strategy?.canary !== undefined && next !== undefined) {
    return {
      spec,
      status: { status: { pauseConditions: null, currentStepIndex: next } },
      unified: { spec: { paused: false }, status: { pauseConditions: null, currentStepIndex: next } },
    };
  }
  return { spec, status: null, unified: unpauseAndClear };
}

/**
 * getPatches' `--full` branch (lines 160-167): unpause spec.paused; set status.promoteFull unless
 * the current pod hash already is the stable one (Go compares the strings, so two empty ones are
 * equal too). Canary and blue-green alike.
 */
function promoteFullPatches(rollout: Rollout): PluginPatches {
  const status = rollout.status ?? {};
  return {
    spec: rollout.spec.paused === true ? UNPAUSE : null,
    status: (status.currentPodHash ?? '') !== (status.stableRS ?? '') ? { status: { promoteFull: true } } : null,
    unified: { spec: { paused: false }, status: { promoteFull: true } },
  };
}

/** PromoteRollout's order (lines 117-134): the status patch, then the spec patch; nil ones are not sent. */
function toPlan(rollout: Rollout, plugin: PluginPatches, nothing: string): RolloutPlan {
  const patches: RolloutPatch[] = [];
  if (plugin.status !== null) patches.push({ target: 'status', body: plugin.status });
  if (plugin.spec !== null) patches.push({ target: 'main', body: plugin.spec });
  if (patches.length === 0) return { kind: 'noop', reason: `rollout ${rollout.metadata.name} ${nothing}` };
  // The unified patch only ever replaces a status patch that was sent (lines 118-127).
  const unified = plugin.status !== null && plugin.unified !== null ? plugin.unified : null;
  return { kind: 'patches', patches, unified: unified === null ? null : { target: 'main', body: unified } };
}

export function planRolloutAction(
  rollout: Rollout,
  verb: RolloutVerb,
  options: { expectDigest?: string | undefined } = {},
): RolloutPlan {
  // The CLI passes it for promote; the dashboard for every verb, so that a confirmation naming one
  // digest can never act on a release that replaced it.
  if (options.expectDigest !== undefined) {
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
  switch (verb) {
    case 'promote':
      return toPlan(rollout, promotePatches(rollout), 'has nothing to promote');
    case 'promote-full':
      return toPlan(rollout, promoteFullPatches(rollout), 'is already fully promoted');
    case 'abort':
      return statusWithFallback({ status: { abort: true } });
    case 'retry':
      return statusWithFallback({ status: { abort: false } });
    case 'pause':
      return { kind: 'patches', patches: [{ target: 'main', body: { spec: { paused: true } } }], unified: null };
  }
}

/**
 * The plugin's abort and retry (cmd/abort/abort.go AbortRollout, cmd/retry/retry.go RetryRollout,
 * v1.9.1): the status subresource first; on 404 the same patch to the Rollout itself.
 */
function statusWithFallback(body: Record<string, unknown>): RolloutPlan {
  return { kind: 'patches', patches: [{ target: 'status', body }], unified: { target: 'main', body } };
}
