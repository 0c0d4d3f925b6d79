import { ConflictError } from '../adapters/kubernetes/rollout-api.js';
import { ExternalError, RefusedError, UsageError } from '../core/errors.js';
import { isPinnableDigest, PINNABLE_DIGEST_HINT } from '../core/image-ref.js';
import { planRolloutAction, type RolloutPatch, type RolloutVerb } from '../core/rollout/plan-rollout-action.js';
import type { Rollout } from '../core/rollout/rollout-object.js';
import type { RolloutView } from '../core/rollout/rollout-view.js';
import type { AppContext } from './context.js';
import { type RollbackResult, rollback } from './rollback.js';
import { openRolloutTarget, type RolloutOptions, type RolloutTarget, rolloutViewOf } from './rollout-target.js';

export async function rolloutStatus(context: AppContext, options: RolloutOptions): Promise<RolloutView> {
  const target = await openRolloutTarget(context, options);
  return rolloutViewOf(target, await target.api.get(target.namespace, target.name));
}

export interface RolloutActionResult {
  readonly environment: string;
  readonly rollout: string;
  readonly namespace: string;
  readonly verb: RolloutVerb;
  readonly outcome: 'patched' | 'unchanged';
  readonly message: string;
  readonly patches: readonly RolloutPatch[];
  readonly conflicts: number;
  readonly view: RolloutView;
}

const MAX_CONFLICTS = 5;

function isNotFound(error: unknown): boolean {
  return error instanceof ExternalError && error.code === 'ROLLOUT_NOT_FOUND';
}

/**
 * Sends the plan's patches in order, each carrying the resourceVersion of the Rollout it was
 * computed from (the one read, then each patch's answer). A 404 on the status patch means the
 * CRD has no status subresource: the plugin then sends its unified patch to the Rollout instead
 * of the spec patch (promote.go PromoteRollout, v1.9.1 lines 118-127), and so does shipway.
 */
async function sendPlan(
  target: RolloutTarget,
  read: Rollout,
  plan: { readonly patches: readonly RolloutPatch[]; readonly unified: RolloutPatch | null },
): Promise<{ rollout: Rollout; sent: RolloutPatch[] }> {
  let rollout = read;
  const sent: RolloutPatch[] = [];
  const apply = async (patch: RolloutPatch) => {
    const body = { ...patch.body, metadata: { resourceVersion: rollout.metadata.resourceVersion } };
    rollout = await target.api.patch(target.namespace, target.name, patch.target, body);
    sent.push(patch);
  };
  for (const patch of plan.patches) {
    try {
      await apply(patch);
    } catch (error) {
      if (patch.target !== 'status' || plan.unified === null || !isNotFound(error)) throw error;
      await apply(plan.unified);
      break;
    }
  }
  return { rollout, sent };
}

/**
 * Reads the Rollout, plans the verb from its state, and sends the plan's merge patches in order,
 * each carrying the resourceVersion it was computed from. A 409 means the Rollout moved: read it
 * again and plan again (the plugin patches blindly and can act on a state it never saw).
 */
export async function rolloutAction(
  context: AppContext,
  options: RolloutOptions & { readonly verb: RolloutVerb; readonly expectDigest?: string | undefined },
): Promise<RolloutActionResult> {
  if (options.expectDigest !== undefined && !isPinnableDigest(options.expectDigest)) {
    throw new UsageError(
      'DIGEST_INVALID',
      `--expect-digest ${JSON.stringify(options.expectDigest)} is not an OCI digest`,
      { hint: PINNABLE_DIGEST_HINT },
    );
  }
  const target = await openRolloutTarget(context, options);
  const base = { environment: target.env.name, rollout: target.name, namespace: target.namespace, verb: options.verb };
  for (let conflicts = 0; conflicts <= MAX_CONFLICTS; conflicts += 1) {
    let rollout = await target.api.get(target.namespace, target.name);
    const plan = planRolloutAction(rollout, options.verb, { expectDigest: options.expectDigest });
    if (plan.kind === 'refused') throw new RefusedError(plan.code, plan.reason, { hint: plan.hint });
    if (plan.kind === 'noop')
      return {
        ...base,
        outcome: 'unchanged',
        message: plan.reason,
        patches: [],
        conflicts,
        view: await rolloutViewOf(target, rollout),
      };
    let sent: readonly RolloutPatch[];
    try {
      ({ rollout, sent } = await sendPlan(target, rollout, plan));
    } catch (error) {
      if (error instanceof ConflictError) {
        context.progress(`rollout ${target.name} changed while ${VERB_ING[options.verb]}; reading it again`);
        continue;
      }
      throw error;
    }
    return {
      ...base,
      outcome: 'patched',
      message: `rollout '${target.name}' ${verbDone(options.verb)}`,
      patches: sent,
      conflicts,
      view: await rolloutViewOf(target, rollout),
    };
  }
  throw new ExternalError(
    'ROLLOUT_CONTENDED',
    `rollout ${target.name} kept changing; gave up after ${MAX_CONFLICTS} conflicts`,
    { hint: 'run the command again' },
  );
}

const VERB_ING: Record<RolloutVerb, string> = {
  promote: 'promoting',
  'promote-full': 'promoting',
  abort: 'aborting',
  retry: 'retrying',
  pause: 'pausing',
};

function verbDone(verb: RolloutVerb): string {
  return { promote: 'promoted', 'promote-full': 'fully promoted', abort: 'aborted', retry: 'retried', pause: 'paused' }[
    verb
  ];
}

/**
 * `shipway rollout abort`: abort the canary, then pin the stable revision's image in Git again
 * (unless --no-revert), so Argo CD does not roll the aborted release out once more.
 */
export async function abortRollout(
  context: AppContext,
  options: RolloutOptions & {
    readonly revert: boolean;
    readonly expectDigest?: string | undefined;
    readonly remote?: string | undefined;
  },
): Promise<{ abort: RolloutActionResult; rollback: RollbackResult | null }> {
  const abort = await rolloutAction(context, { ...options, verb: 'abort' });
  if (!options.revert) return { abort, rollback: null };
  const stableImage = abort.view.stable.image;
  const digest = stableImage?.includes('@') === true ? stableImage.slice(stableImage.indexOf('@') + 1) : undefined;
  if (digest === undefined || !isPinnableDigest(digest)) {
    throw new ExternalError(
      'STABLE_IMAGE_UNKNOWN',
      `aborted, but the stable revision ${abort.view.stable.revision ?? '(none)'} has no image digest to pin in Git`,
      {
        hint: `run shipway rollback ${options.environment} --to <commit|digest>`,
      },
    );
  }
  const reverted = await rollback(context, {
    environment: options.environment,
    to: digest,
    configFile: options.configFile,
    remote: options.remote,
    cause: 'abort',
  });
  return { abort, rollback: reverted };
}
