import type { RolloutView } from '../rollout/rollout-view.js';
import type { AnalysisRunView } from './analysis-run-view.js';
import type { ReleaseEventKind } from './release-timeline.js';

/** What an environment's branch pins, and the commit that pinned it (from `shipway status` and its trailers). */
export interface PinnedRelease {
  readonly image: string | null;
  readonly tag: string | null;
  readonly digest: string | null;
  readonly commit: string | null;
  readonly promotedAt: string | null;
  readonly promotedFrom: string | null;
  readonly pipeline: string | null;
  readonly kind: ReleaseEventKind | null;
  readonly problem: string | null;
}

export interface PodCount {
  readonly revision: string;
  readonly ready: number;
  readonly total: number;
}

export interface CardInput {
  readonly environment: string;
  readonly gate: 'auto' | 'manual';
  readonly from: string | null;
  readonly strategy: string | null;
  readonly pinned: PinnedRelease;
  readonly rollout: RolloutView | null;
  /** Why the rollout could not be read (no cluster, not synced yet, forbidden); null when it was. */
  readonly rolloutProblem: string | null;
  readonly analysis: readonly AnalysisRunView[];
  /** Pods by revision; null when the cluster does not say (a real cluster without ReplicaSet status). */
  readonly pods: readonly PodCount[] | null;
}

export interface DigestView {
  readonly full: string;
  /** The first 12 hex digits after the algorithm, as `docker images` shortens image IDs. */
  readonly short: string;
  /** Same number = same release on the board (the digest's order of first appearance). */
  readonly release: number;
}

export interface Card {
  readonly app: string;
  readonly environment: string;
  readonly gate: 'auto' | 'manual';
  readonly from: string | null;
  readonly image: {
    readonly repository: string | null;
    readonly tag: string | null;
    readonly digest: DigestView | null;
  };
  readonly commit: {
    readonly sha: string;
    readonly short: string;
    readonly at: string | null;
    readonly pipeline: string | null;
    readonly from: string | null;
    readonly kind: ReleaseEventKind | null;
  } | null;
  readonly rollout: {
    readonly phase: string;
    readonly message: string;
    readonly step: { readonly current: number; readonly total: number } | null;
    readonly canaryWeight: number;
    readonly stableWeight: number;
    readonly aborted: boolean;
    readonly canary: { readonly revision: string | null; readonly digest: DigestView | null };
    readonly stable: { readonly revision: string | null; readonly digest: DigestView | null };
  } | null;
  readonly analysis: readonly AnalysisRunView[];
  readonly pods: readonly (PodCount & { readonly role: 'canary' | 'stable' | 'other' })[] | null;
  readonly problems: readonly string[];
}

export interface Board {
  readonly app: string;
  readonly cards: readonly Card[];
}

/** `sha256:0123456789abcdef…` → `0123456789ab`. */
export function shortDigest(digest: string): string {
  const hex = digest.slice(digest.indexOf(':') + 1);
  return hex.slice(0, 12);
}

function digestOfImage(image: string | null): string | null {
  if (image === null || !image.includes('@')) return null;
  return image.slice(image.indexOf('@') + 1);
}

function repositoryOf(image: string | null): string | null {
  if (image === null) return null;
  const name = image.split('@')[0] ?? '';
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') ? name.slice(0, colon) : name;
}

/**
 * The environments board: one card per environment in promotion order. Every digest on the
 * board (pinned, canary, stable) gets a release number by first appearance, so the same digest
 * in several environments reads as the same release.
 */
export function buildBoard(app: string, inputs: readonly CardInput[]): Board {
  const view = releaseNumbering(new Map());
  return { app, cards: inputs.map((input) => buildCard(app, input, view)) };
}

/** Numbers digests by first appearance, continuing from those `known` already has. */
function releaseNumbering(known: Map<string, number>): (digest: string | null) => DigestView | null {
  const releases = known;
  return (digest) => {
    if (digest === null) return null;
    if (!releases.has(digest)) releases.set(digest, Math.max(0, ...releases.values()) + 1);
    return { full: digest, short: shortDigest(digest), release: releases.get(digest) ?? 0 };
  };
}

/**
 * The board with one environment's rollout replaced by a newer version of it, as the Rollout
 * watch delivers it: pushed at once, before the next full read. The watch does not carry the
 * stable revision's image; while the stable revision is the same, its digest is kept.
 */
export function withRollout(board: Board, environment: string, rollout: RolloutView): Board {
  const known = new Map<string, number>();
  for (const card of board.cards)
    for (const digest of [card.image.digest, card.rollout?.canary.digest, card.rollout?.stable.digest])
      if (digest) known.set(digest.full, digest.release);
  const view = releaseNumbering(known);
  return {
    ...board,
    cards: board.cards.map((card) => {
      if (card.environment !== environment) return card;
      const stableKept =
        rollout.stable.image === null && card.rollout?.stable.revision === rollout.stable.revision
          ? (card.rollout?.stable.digest?.full ?? null)
          : digestOfImage(rollout.stable.image);
      return { ...card, rollout: rolloutBlock(rollout, view, stableKept) };
    }),
  };
}

function rolloutBlock(
  rollout: RolloutView,
  view: (digest: string | null) => DigestView | null,
  stableDigest: string | null,
): NonNullable<Card['rollout']> {
  const canaryRevision = rollout.canary.revision;
  const stableRevision = rollout.stable.revision;
  // One revision running (fully promoted, or back on stable): all of it is stable.
  const single = canaryRevision === stableRevision;
  return {
    phase: rollout.phase,
    message: rollout.message,
    step: rollout.step,
    canaryWeight: single ? 0 : rollout.actualWeight,
    stableWeight: single ? 100 : 100 - rollout.actualWeight,
    aborted: rollout.aborted,
    canary: { revision: canaryRevision, digest: view(digestOfImage(rollout.canary.image)) },
    stable: { revision: stableRevision, digest: view(stableDigest) },
  };
}

function buildCard(app: string, input: CardInput, view: (digest: string | null) => DigestView | null): Card {
  const { pinned, rollout } = input;
  const problems = [pinned.problem, input.rolloutProblem].filter((problem): problem is string => problem !== null);
  const canaryRevision = rollout?.canary.revision ?? null;
  const stableRevision = rollout?.stable.revision ?? null;
  return {
    app,
    environment: input.environment,
    gate: input.gate,
    from: input.from,
    image: { repository: repositoryOf(pinned.image), tag: pinned.tag, digest: view(pinned.digest) },
    commit:
      pinned.commit === null
        ? null
        : {
            sha: pinned.commit,
            short: pinned.commit.slice(0, 12),
            at: pinned.promotedAt,
            pipeline: pinned.pipeline,
            from: pinned.promotedFrom,
            kind: pinned.kind,
          },
    rollout: rollout === null ? null : rolloutBlock(rollout, view, digestOfImage(rollout.stable.image)),
    analysis: input.analysis,
    pods:
      input.pods?.map((pods) => ({
        ...pods,
        role:
          pods.revision === canaryRevision && canaryRevision !== stableRevision
            ? 'canary'
            : pods.revision === stableRevision
              ? 'stable'
              : 'other',
      })) ?? null,
    problems,
  };
}
