import { setTimeout as sleep } from 'node:timers/promises';
import { loadKubeconfig } from '../adapters/kubernetes/load-kubeconfig.js';
import { ConflictError, RolloutApi } from '../adapters/kubernetes/rollout-api.js';
import type { EnvironmentConfig } from '../core/config/shipway-config.js';
import { ExternalError, RefusedError, UsageError } from '../core/errors.js';
import { isPinnableDigest, PINNABLE_DIGEST_HINT } from '../core/image-ref.js';
import { planRolloutAction, type RolloutPatch, type RolloutVerb } from '../core/rollout/plan-rollout-action.js';
import type { Rollout } from '../core/rollout/rollout-object.js';
import { type RolloutView, rolloutView } from '../core/rollout/rollout-view.js';
import type { AppContext } from './context.js';
import { requireEnvironment } from './find-environment.js';
import { loadShipwayConfig } from './load-config.js';
import { type RollbackResult, rollback } from './rollback.js';

export interface RolloutOptions {
  readonly environment: string;
  readonly kubeconfig?: string | undefined;
  readonly context?: string | undefined;
  readonly configFile?: string | undefined;
}

interface Target {
  readonly env: EnvironmentConfig;
  readonly name: string;
  readonly namespace: string;
  readonly api: RolloutApi;
}

async function openTarget(context: AppContext, options: RolloutOptions): Promise<Target> {
  const config = await loadShipwayConfig(context, options.configFile);
  const env = requireEnvironment(config, options.environment);
  if (env.rollout === undefined) {
    throw new UsageError(`environment ${env.name} has no rollout in shipway.yaml`, {
      code: 'ROLLOUT_UNDEFINED',
      hint: `add environments[].rollout (name, strategy) for ${env.name}`,
    });
  }
  const kubeconfig = loadKubeconfig({
    file: options.kubeconfig,
    context: options.context,
    cwd: context.cwd,
    env: context.env,
  });
  return { env, name: env.rollout.name, namespace: env.namespace, api: new RolloutApi(kubeconfig.config) };
}

async function viewOf(target: Target, rollout: Rollout): Promise<RolloutView> {
  const stable = rollout.status?.stableRS;
  const image =
    stable === undefined
      ? undefined
      : await target.api.imageOfRevision(target.namespace, stable).catch(() => undefined);
  return rolloutView(rollout, image ?? null);
}

export async function rolloutStatus(context: AppContext, options: RolloutOptions): Promise<RolloutView> {
  const target = await openTarget(context, options);
  return viewOf(target, await target.api.get(target.namespace, target.name));
}

export type WaitFor =
  | { readonly kind: 'healthy' }
  | { readonly kind: 'paused' }
  | { readonly kind: 'step'; readonly step: number }
  /** The Rollout's pod template runs this digest: GitOps has synced the release. */
  | { readonly kind: 'digest'; readonly digest: string }
  /** Whichever comes first (`--for paused,healthy`: a canary's pause, or a first release's Healthy). */
  | { readonly kind: 'any'; readonly of: readonly WaitFor[] };

function runsDigest(view: RolloutView, digest: string): boolean {
  return view.canary.image?.endsWith(`@${digest}`) === true;
}

function satisfied(view: RolloutView, waitFor: WaitFor): boolean {
  if (waitFor.kind === 'any') return waitFor.of.some((one) => satisfied(view, one));
  if (waitFor.kind === 'healthy') return view.phase === 'Healthy';
  if (waitFor.kind === 'paused') return view.phase === 'Paused';
  if (waitFor.kind === 'digest') return runsDigest(view, waitFor.digest);
  return view.step !== null && view.step.current >= waitFor.step;
}

/**
 * `shipway rollout wait`: returns as soon as the condition holds, read from a watch (not a sleep
 * loop); Degraded is a refusal (exit 4); a timeout names what was last seen.
 */
export async function waitForRollout(
  context: AppContext,
  options: RolloutOptions & {
    readonly waitFor: WaitFor;
    readonly timeoutMs: number;
    readonly onChange?: (view: RolloutView) => void;
  },
): Promise<RolloutView> {
  const target = await openTarget(context, options);
  const controller = new AbortController();
  // Right after a promotion the Rollout may not exist yet (GitOps has not synced): keep waiting.
  const initial = await target.api.get(target.namespace, target.name).catch((error: unknown) => {
    if (error instanceof ExternalError && error.code === 'ROLLOUT_NOT_FOUND') return undefined;
    throw error;
  });
  let last: RolloutView | undefined = initial === undefined ? undefined : rolloutView(initial, null);
  const outcome = new Promise<RolloutView>((resolve, reject) => {
    const check = (rollout: Rollout) => {
      const view = rolloutView(rollout, null);
      last = view;
      options.onChange?.(view);
      // Waiting for a release to arrive, the previous one being Degraded is not this one's failure.
      const previous = options.waitFor.kind === 'digest' && !runsDigest(view, options.waitFor.digest);
      if (satisfied(view, options.waitFor)) resolve(view);
      else if (view.phase === 'Degraded' && !previous)
        reject(
          new RefusedError(
            'ROLLOUT_DEGRADED',
            `rollout ${target.name} in ${target.namespace} is Degraded: ${last.message}`,
            { hint: 'shipway rollout retry, or fix the release and promote again' },
          ),
        );
    };
    if (initial !== undefined) check(initial);
    target.api.watch(target.namespace, target.name, check, controller.signal).catch(reject);
    sleep(options.timeoutMs, undefined, { signal: controller.signal }).then(
      () =>
        reject(
          new RefusedError(
            'WAIT_TIMEOUT',
            `timed out after ${options.timeoutMs} ms waiting for ${describe(options.waitFor)}; last seen: ${lastSeen(last)}`,
          ),
        ),
      () => {},
    );
  });
  try {
    return await outcome;
  } finally {
    controller.abort();
  }
}

function lastSeen(view: RolloutView | undefined): string {
  if (view === undefined) return 'no such rollout yet';
  return `${view.phase}${view.message ? ` (${view.message})` : ''}${view.step ? `, step ${view.step.current}/${view.step.total}` : ''}`;
}

function describe(waitFor: WaitFor): string {
  if (waitFor.kind === 'digest') return `the rollout to run ${waitFor.digest}`;
  if (waitFor.kind === 'any') return waitFor.of.map(describe).join(' or ');
  return waitFor.kind === 'step' ? `step ${waitFor.step}` : waitFor.kind;
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

/**
 * Reads the Rollout, plans the verb from its state, and sends the plan's merge patches in order,
 * each carrying the resourceVersion it was computed from. A 409 means the Rollout moved: read it
 * again and plan again (the plugin patches blindly and can act on a state it never saw).
 */
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
  target: Target,
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

export async function rolloutAction(
  context: AppContext,
  options: RolloutOptions & { readonly verb: RolloutVerb; readonly expectDigest?: string | undefined },
): Promise<RolloutActionResult> {
  if (options.expectDigest !== undefined && !isPinnableDigest(options.expectDigest)) {
    throw new UsageError(`--expect-digest ${JSON.stringify(options.expectDigest)} is not an OCI digest`, {
      code: 'DIGEST_INVALID',
      hint: PINNABLE_DIGEST_HINT,
    });
  }
  const target = await openTarget(context, options);
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
        view: await viewOf(target, rollout),
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
      view: await viewOf(target, rollout),
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
