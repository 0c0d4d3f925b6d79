import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Document, parseDocument } from 'yaml';
import { GitScratch } from '../adapters/git/git-scratch.js';
import type { EnvironmentConfig, ShipwayConfig } from '../core/config/shipway-config.js';
import { ConfigError, ExternalError, RefusedError } from '../core/errors.js';
import {
  formatKustomization,
  type KustomizeImage,
  readImages,
  setImagesInDocument,
} from '../core/kustomize/set-image.js';
import type { AppContext } from './context.js';
import { chooseRemote, credentialsFrom, identityFrom } from './git-remote.js';

export const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'] as const;

/** An environment's overlay as its branch holds it right now. */
export interface OverlayState {
  /** The branch tip, or null when the branch does not exist yet (it starts from `base`). */
  readonly tip: string | null;
  readonly base: string;
  readonly file: string;
  readonly images: readonly KustomizeImage[];
}

export type OverlayDecision =
  | { readonly kind: 'refused'; readonly code: string; readonly reason: string; readonly hint: string }
  | { readonly kind: 'unchanged'; readonly image: KustomizeImage }
  | { readonly kind: 'change'; readonly image: KustomizeImage; readonly message: string };

export type OverlayUpdate =
  | { readonly kind: 'unchanged'; readonly image: KustomizeImage; readonly state: OverlayState }
  | {
      readonly kind: 'planned' | 'committed';
      readonly image: KustomizeImage;
      readonly state: OverlayState;
      readonly commit: string | null;
      readonly text: string;
      readonly attempts: number;
    };

const MAX_ATTEMPTS = 12;

/** How status, rollback and the others say that an environment's branch is not there yet. */
export function branchMissing(branch: string): string {
  return `branch ${branch} does not exist yet`;
}

/** A scratch clone of the GitOps remote: git.remote, or what --remote / the local stack say (chooseRemote). */
export async function openScratch(
  context: AppContext,
  config: ShipwayConfig,
  remoteFlag?: string | undefined,
): Promise<GitScratch> {
  const remote = await chooseRemote(context, config.git.remote, remoteFlag);
  if (remote.hadEmbeddedCredentials) {
    context.progress(
      'note: ignoring credentials embedded in the remote URL; they are taken from the environment instead',
    );
  }
  return GitScratch.create(
    remote.url,
    credentialsFrom(context.env),
    identityFrom(context.env),
    context.env.TMPDIR || tmpdir(),
  );
}

export async function readOverlayAt(scratch: GitScratch, commit: string, env: EnvironmentConfig) {
  for (const name of KUSTOMIZATION_FILES) {
    const file = `${env.overlay.replace(/\/+$/, '')}/${name}`;
    const text = await scratch.readFile(commit, file);
    if (text === null) continue;
    const document = parseDocument(text);
    if (document.errors.length > 0) {
      throw new ConfigError(
        'KUSTOMIZATION_INVALID',
        `${file} on ${env.branch} is not valid YAML: ${document.errors[0]?.message.split('\n')[0] ?? ''}`,
      );
    }
    try {
      return { file, text, document, images: readImages(document) };
    } catch (error) {
      if (error instanceof ConfigError)
        throw new ConfigError(error.code, `${file} on ${env.branch}: ${error.message}`, {
          hint: error.hint,
          cause: error,
        });
      throw error;
    }
  }
  throw new ConfigError('OVERLAY_MISSING', `no kustomization in ${env.overlay} on branch ${env.branch}`, {
    hint: `create ${env.overlay}/kustomization.yaml, or fix environments[].overlay for ${env.name} in shipway.yaml`,
  });
}

async function readState(context: AppContext, scratch: GitScratch, env: EnvironmentConfig, fullHistory: boolean) {
  const tip = await scratch.fetchBranch(env.branch, fullHistory ? {} : { depth: 1 });
  const base = tip ?? (await scratch.fetchHead(context.cwd));
  const overlay = await readOverlayAt(scratch, base, env);
  return { state: { tip, base, file: overlay.file, images: overlay.images }, document: overlay.document };
}

function render(document: Document, image: KustomizeImage): string {
  setImagesInDocument(document, [image]);
  return formatKustomization(document);
}

/**
 * Reads the environment's overlay at its branch tip, asks `decide`, and applies the answer as one
 * commit pushed to the branch. When the push is rejected because the branch moved, everything is
 * read again and decided again on the new tip, with jittered exponential back-off, so concurrent
 * writers never lose an update and history stays linear.
 */
export async function updateOverlay(
  context: AppContext,
  scratch: GitScratch,
  env: EnvironmentConfig,
  decide: (state: OverlayState) => Promise<OverlayDecision>,
  options: { dryRun: boolean; fullHistory?: boolean },
): Promise<OverlayUpdate> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
    const { state, document } = await readState(context, scratch, env, options.fullHistory === true);
    const decision = await decide(state);
    if (decision.kind === 'refused') throw new RefusedError(decision.code, decision.reason, { hint: decision.hint });
    if (decision.kind === 'unchanged') return { kind: 'unchanged', image: decision.image, state };
    const text = render(document, decision.image);
    if (options.dryRun) return { kind: 'planned', image: decision.image, state, commit: null, text, attempts: attempt };
    const commit = await scratch.commitFile(state.base, state.file, text, decision.message);
    if ((await scratch.push(commit, env.branch)) === 'pushed') {
      return { kind: 'committed', image: decision.image, state, commit, text, attempts: attempt };
    }
    context.progress(`branch ${env.branch} moved while promoting; retrying on the new tip (attempt ${attempt + 1})`);
    await sleep(Math.min(1000, 20 * 2 ** attempt) * (0.5 + Math.random()));
  }
  throw new ExternalError(
    'PUSH_CONTENDED',
    `gave up pushing to ${env.branch} after ${MAX_ATTEMPTS} attempts: the branch kept moving`,
    {
      hint: 'run the promotion again; resource_group in GitLab serialises deploy jobs per environment',
    },
  );
}
