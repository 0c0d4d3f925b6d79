import type { GitScratch } from '../adapters/git/git-scratch.js';
import type { EnvironmentConfig } from '../core/config/shipway-config.js';
import { UsageError } from '../core/errors.js';
import { isPinnableDigest, PINNABLE_DIGEST_HINT } from '../core/image-ref.js';
import type { KustomizeImage } from '../core/kustomize/set-image.js';
import { formatEntry } from '../core/promotion/plan-promotion.js';
import { formatPromotionMessage } from '../core/promotion/promotion-message.js';
import type { AppContext } from './context.js';
import { requireEnvironment } from './find-environment.js';
import { loadShipwayConfig } from './load-config.js';
import {
  branchMissing,
  type OverlayDecision,
  type OverlayState,
  openScratch,
  readOverlayAt,
  updateOverlay,
} from './overlay-branch.js';

export interface RollbackOptions {
  readonly environment: string;
  /** A commit on the branch, or an image digest the branch pinned before. */
  readonly to?: string | undefined;
  readonly dryRun?: boolean;
  readonly configFile?: string | undefined;
  /** The GitOps remote instead of the one chooseRemote picks (--remote). */
  readonly remote?: string | undefined;
  /** Recorded as the `Shipway-Cause` trailer: `abort` when an aborted canary's stable image is pinned again. */
  readonly cause?: 'abort' | undefined;
}

export interface RollbackResult {
  readonly environment: string;
  readonly branch: string;
  readonly status: 'rolled-back' | 'unchanged' | 'planned';
  readonly image: string;
  readonly digest: string | null;
  readonly from: string | null;
  readonly commit: string | null;
  /** The commit whose image was restored. */
  readonly restoredFrom: string;
}

interface HistoricImage {
  readonly commit: string;
  readonly image: KustomizeImage | undefined;
}

async function history(scratch: GitScratch, env: EnvironmentConfig, state: OverlayState, imageName: string) {
  const entries: HistoricImage[] = [];
  for (const entry of await scratch.log(`refs/shipway/${env.branch}`, state.file)) {
    const overlay = await readOverlayAt(scratch, entry.commit, env).catch(() => undefined);
    entries.push({ commit: entry.commit, image: overlay?.images.find((image) => image.name === imageName) });
  }
  return entries;
}

function same(a: KustomizeImage | undefined, b: KustomizeImage | undefined): boolean {
  return a?.newName === b?.newName && a?.newTag === b?.newTag && a?.digest === b?.digest;
}

function pick(entries: readonly HistoricImage[], current: KustomizeImage | undefined, to: string | undefined) {
  if (to === undefined) return entries.find((entry) => entry.image !== undefined && !same(entry.image, current));
  if (to.includes(':')) return entries.find((entry) => entry.image?.digest === to);
  return entries.find((entry) => entry.commit.startsWith(to.toLowerCase()) && to.length >= 7);
}

/** `--to` names a commit (abbreviated to 7 or more hex digits; 64 for SHA-256 repositories) or a digest. */
function checkTarget(to: string | undefined): void {
  if (to === undefined || (to.includes(':') ? isPinnableDigest(to) : /^[0-9a-f]{7,64}$/i.test(to))) return;
  throw new UsageError('ROLLBACK_TARGET_INVALID', `--to ${JSON.stringify(to)} is neither a commit nor an OCI digest`, {
    hint: `pass a commit of the branch (7 or more hex digits) or a digest; ${PINNABLE_DIGEST_HINT}`,
  });
}

/** Nothing to roll back to on a branch that was never written; said as `status` says it. */
function missingBranch(env: EnvironmentConfig): OverlayDecision {
  return {
    kind: 'refused',
    code: 'ROLLBACK_BRANCH_MISSING',
    reason: `${env.name} has nothing to roll back: ${branchMissing(env.branch)}`,
    hint: `promote an image to ${env.name} first (shipway promote ${env.name} --image <ref> or --from <env>)`,
  };
}

/** `shipway rollback`: pin the image the environment had before, as a new commit on its branch. */
export async function rollback(context: AppContext, options: RollbackOptions): Promise<RollbackResult> {
  const config = await loadShipwayConfig(context, options.configFile);
  const env = requireEnvironment(config, options.environment);
  checkTarget(options.to);
  const scratch = await openScratch(context, config, options.remote);
  const chosen: { entry?: HistoricImage } = {};
  try {
    const decide = async (state: OverlayState): Promise<OverlayDecision> => {
      if (state.tip === null) return missingBranch(env);
      const current = state.images.find((image) => image.name === config.image.name);
      const entry = pick(await history(scratch, env, state, config.image.name), current, options.to);
      if (entry?.image === undefined) {
        return {
          kind: 'refused',
          code: 'ROLLBACK_TARGET_MISSING',
          reason:
            options.to === undefined
              ? `${env.name} has no earlier image than ${current === undefined ? 'none' : formatEntry(current)} in the history of ${env.branch}`
              : `${options.to} is not an image or commit in the history of ${state.file} on ${env.branch}`,
          hint: 'run `shipway status` to see what the branch pins, and pass --to <commit|digest>',
        };
      }
      chosen.entry = entry;
      if (same(entry.image, current)) return { kind: 'unchanged', image: entry.image };
      const message = formatPromotionMessage('rollback', config.app, entry.image.newTag || null, {
        environment: env.name,
        image: formatEntry(entry.image),
        digest: entry.image.digest || null,
        sourceEnvironment: null,
        sourceCommit: entry.commit,
        pipeline: context.env.CI_PIPELINE_ID ?? null,
        cause: options.cause ?? null,
      });
      return { kind: 'change', image: entry.image, message };
    };
    const update = await updateOverlay(context, scratch, env, decide, {
      dryRun: options.dryRun === true,
      fullHistory: true,
    });
    const previous = update.state.images.find((image) => image.name === config.image.name);
    return {
      environment: env.name,
      branch: env.branch,
      status: update.kind === 'unchanged' ? 'unchanged' : update.kind === 'planned' ? 'planned' : 'rolled-back',
      image: formatEntry(update.image),
      digest: update.image.digest || null,
      from: previous === undefined ? null : formatEntry(previous),
      commit: update.kind === 'unchanged' ? null : update.commit,
      restoredFrom: chosen.entry?.commit ?? '',
    };
  } finally {
    await scratch.dispose();
  }
}
