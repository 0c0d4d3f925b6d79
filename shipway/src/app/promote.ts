import type { GitScratch } from '../adapters/git/git-scratch.js';
import type { EnvironmentConfig } from '../core/config/shipway-config.js';
import { UsageError } from '../core/errors.js';
import { parseImageRef } from '../core/image-ref.js';
import {
  formatEntry,
  type PromotionRequest,
  planPromotion,
  type SourceState,
} from '../core/promotion/plan-promotion.js';
import type { AppContext } from './context.js';
import { requireEnvironment } from './find-environment.js';
import { loadShipwayConfig } from './load-config.js';
import { openScratch, readOverlayAt, updateOverlay } from './overlay-branch.js';

export interface PromoteOptions {
  readonly environment: string;
  readonly image?: string | undefined;
  readonly from?: string | undefined;
  readonly dryRun?: boolean;
  readonly approve?: boolean;
  readonly configFile?: string | undefined;
  /** The GitOps remote instead of the one chooseRemote picks (--remote). */
  readonly remote?: string | undefined;
  /** Refuse (exit 4, nothing written) unless the image being pinned has this digest. */
  readonly expectDigest?: string | undefined;
}

export interface PromoteResult {
  readonly environment: string;
  readonly branch: string;
  readonly status: 'promoted' | 'unchanged' | 'planned';
  readonly image: string;
  readonly repository: string;
  readonly tag: string | null;
  readonly digest: string | null;
  readonly previous: string | null;
  readonly commit: string | null;
  readonly source: { readonly environment: string; readonly commit: string } | null;
  readonly file: string;
  /** The overlay's new text, for --dry-run. */
  readonly kustomization: string | null;
}

async function readSource(scratch: GitScratch, env: EnvironmentConfig, imageName: string): Promise<SourceState> {
  const tip = await scratch.fetchBranch(env.branch, { depth: 1 });
  if (tip === null) return { image: undefined, commit: '' };
  const overlay = await readOverlayAt(scratch, tip, env);
  return { image: overlay.images.find((entry) => entry.name === imageName), commit: tip };
}

/**
 * --image pins that image; --from copies an environment's; neither copies from the target's own
 * `from:` in shipway.yaml, so one generic deploy job (templates/deliver.yml) can promote any
 * environment that is not the one it builds in.
 */
function parseRequest(
  options: PromoteOptions,
  target: EnvironmentConfig,
  resolveEnv: (name: string) => EnvironmentConfig,
): PromotionRequest {
  if (options.image !== undefined && options.from !== undefined)
    throw new UsageError('USAGE', 'promote takes --image <ref> or --from <env>, not both');
  if (options.image !== undefined) return { kind: 'image', ref: parseImageRef(options.image) };
  const from = options.from ?? target.from;
  if (from === undefined)
    throw new UsageError('USAGE', `promote ${target.name} needs --image <ref> or --from <env>`, {
      hint: `${target.name} has no from: in shipway.yaml to promote from`,
    });
  return { kind: 'from', environment: resolveEnv(from) };
}

/** `shipway promote`: pin an image in an environment's overlay on its GitOps branch. */
export async function promote(context: AppContext, options: PromoteOptions): Promise<PromoteResult> {
  const config = await loadShipwayConfig(context, options.configFile);
  const target = requireEnvironment(config, options.environment);
  const request = parseRequest(options, target, (name) => requireEnvironment(config, name));
  const scratch = await openScratch(context, config, options.remote);
  try {
    const seen: { source?: SourceState } = {};
    const update = await updateOverlay(
      context,
      scratch,
      target,
      async (state) => {
        if (request.kind === 'from') seen.source = await readSource(scratch, request.environment, config.image.name);
        const incoming = request.kind === 'from' ? seen.source?.image?.digest : request.ref.digest;
        if (options.expectDigest !== undefined && incoming !== options.expectDigest) {
          return {
            kind: 'refused',
            code: 'DIGEST_MISMATCH',
            reason: `${target.name} would be given ${incoming || 'an image without a digest'}, not ${options.expectDigest}`,
            hint: 'the upstream environment moved on since the digest was read; look again and confirm the new one',
          };
        }
        return planPromotion({
          app: config.app,
          imageName: config.image.name,
          target,
          request,
          source: seen.source,
          current: state.images,
          approved: options.approve === true || context.env.CI_JOB_MANUAL === 'true',
          pipeline: context.env.CI_PIPELINE_ID ?? null,
          buildCommit: context.env.CI_COMMIT_SHA ?? null,
        });
      },
      { dryRun: options.dryRun === true },
    );
    const previous = update.state.images.find((entry) => entry.name === config.image.name);
    const committed = update.kind === 'unchanged' ? null : update;
    return {
      environment: target.name,
      branch: target.branch,
      status: update.kind === 'unchanged' ? 'unchanged' : update.kind === 'planned' ? 'planned' : 'promoted',
      image: formatEntry(update.image),
      repository: update.image.newName || update.image.name,
      tag: update.image.newTag || null,
      digest: update.image.digest || null,
      previous: previous === undefined ? null : formatEntry(previous),
      commit: committed?.commit ?? null,
      source:
        request.kind === 'from' && seen.source !== undefined
          ? { environment: request.environment.name, commit: seen.source.commit }
          : null,
      file: update.state.file,
      kustomization: committed?.text ?? null,
    };
  } finally {
    await scratch.dispose();
  }
}
