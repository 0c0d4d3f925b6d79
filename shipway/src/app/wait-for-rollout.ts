import { setTimeout as sleep } from 'node:timers/promises';
import { ExternalError, RefusedError } from '../core/errors.js';
import type { Rollout } from '../core/rollout/rollout-object.js';
import { type RolloutView, rolloutView } from '../core/rollout/rollout-view.js';
import type { AppContext } from './context.js';
import { openRolloutTarget, type RolloutOptions } from './rollout-target.js';

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
  const target = await openRolloutTarget(context, options);
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
