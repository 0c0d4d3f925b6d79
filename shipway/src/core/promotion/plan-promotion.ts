import type { EnvironmentConfig } from '../config/shipway-config.js';
import type { ImageRef } from '../image-ref.js';
import type { KustomizeImage } from '../kustomize/set-image.js';
import { formatPromotionMessage } from './promotion-message.js';

export type PromotionRequest =
  | { readonly kind: 'image'; readonly ref: ImageRef }
  | { readonly kind: 'from'; readonly environment: EnvironmentConfig };

/** What the upstream environment's branch pins, read before planning a `--from` promotion. */
export interface SourceState {
  readonly image: KustomizeImage | undefined;
  readonly commit: string;
}

export interface PlanPromotionInput {
  readonly app: string;
  readonly imageName: string;
  readonly target: EnvironmentConfig;
  readonly request: PromotionRequest;
  readonly source: SourceState | undefined;
  readonly current: readonly KustomizeImage[];
  /** A manual gate is open: `--approve`, or a GitLab job started by a person (CI_JOB_MANUAL). */
  readonly approved: boolean;
  readonly pipeline: string | null;
  /** The commit the image was built from, for `--image` (CI_COMMIT_SHA in a pipeline). */
  readonly buildCommit: string | null;
}

export type PromotionPlan =
  | { readonly kind: 'refused'; readonly code: string; readonly reason: string; readonly hint: string }
  | { readonly kind: 'unchanged'; readonly image: KustomizeImage }
  | {
      readonly kind: 'change';
      readonly image: KustomizeImage;
      readonly previous: KustomizeImage | undefined;
      readonly message: string;
    };

function desiredImage(input: PlanPromotionInput): KustomizeImage | PromotionPlan {
  const { request, target } = input;
  if (request.kind === 'image') {
    const { repository, tag, digest } = request.ref;
    return { name: input.imageName, newName: repository, newTag: tag ?? '', digest: digest ?? '' };
  }
  if (target.from !== request.environment.name) {
    return {
      kind: 'refused',
      code: 'GATE_UPSTREAM',
      reason: `${target.name} is promoted from ${target.from ?? 'no environment'}, not from ${request.environment.name}`,
      hint: target.from === undefined ? `use --image for ${target.name}` : `use --from ${target.from}`,
    };
  }
  const sourceImage = input.source?.image;
  if (sourceImage === undefined) {
    return {
      kind: 'refused',
      code: 'SOURCE_EMPTY',
      reason: `${request.environment.name} has no ${input.imageName} image on branch ${request.environment.branch} yet`,
      hint: `promote ${request.environment.name} first`,
    };
  }
  return sourceImage;
}

/**
 * Decides one promotion from plain data: which `images:` entry the target overlay should hold,
 * whether that is already so, or why it is refused. Applying the plan is the caller's job.
 */
export function planPromotion(input: PlanPromotionInput): PromotionPlan {
  const { target } = input;
  if (target.gate === 'manual' && !input.approved) {
    return {
      kind: 'refused',
      code: 'GATE_MANUAL',
      reason: `${target.name} has a manual gate and this promotion was not approved`,
      hint: 'pass --approve, or run it as a manual GitLab job (CI_JOB_MANUAL=true)',
    };
  }
  const desired = desiredImage(input);
  if ('kind' in desired) return desired;
  const image: KustomizeImage = { ...desired, name: input.imageName };
  const previous = input.current.find((entry) => entry.name === input.imageName);
  if (
    previous !== undefined &&
    previous.newName === image.newName &&
    previous.newTag === image.newTag &&
    previous.digest === image.digest
  ) {
    return { kind: 'unchanged', image };
  }
  const fromUpstream = input.request.kind === 'from';
  const message = formatPromotionMessage('promote', input.app, image.newTag || null, {
    environment: target.name,
    image: formatEntry(image),
    digest: image.digest || null,
    sourceEnvironment: input.request.kind === 'from' ? input.request.environment.name : null,
    sourceCommit: fromUpstream ? (input.source?.commit ?? null) : input.buildCommit,
    pipeline: input.pipeline,
  });
  return { kind: 'change', image, previous, message };
}

/** `newName[:newTag][@digest]`, falling back to the entry's name when no new name is set. */
export function formatEntry(image: KustomizeImage): string {
  return `${image.newName || image.name}${image.newTag ? `:${image.newTag}` : ''}${image.digest ? `@${image.digest}` : ''}`;
}
