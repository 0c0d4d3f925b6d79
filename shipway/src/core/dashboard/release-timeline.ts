import { parsePromotionTrailers } from '../promotion/promotion-message.js';

/** One commit that changed an environment's overlay, as `git log` reads it. */
export interface OverlayCommit {
  readonly sha: string;
  /** Committer date, ISO 8601. */
  readonly committedAt: string;
  readonly message: string;
}

export type ReleaseEventKind = 'promote' | 'rollback' | 'abort';

/** A promotion, a rollback or an abort's revert, read back from a shipway commit on an environment branch. */
export interface ReleaseEvent {
  readonly environment: string;
  readonly kind: ReleaseEventKind;
  readonly commit: string;
  readonly at: string;
  readonly subject: string;
  readonly image: string | null;
  readonly tag: string | null;
  readonly digest: string | null;
  /** What the environment pinned before this commit (the previous shipway commit's digest). */
  readonly previousDigest: string | null;
  readonly sourceEnvironment: string | null;
  /** The upstream branch's commit (`--from`), or the commit the image was built from (`--image`). */
  readonly sourceCommit: string | null;
  readonly pipeline: string | null;
}

// The subjects formatPromotionMessage writes: "[skip ci] promote <app> to <env>: …" and
// "[skip ci] roll back <app> in <env> to …". `Shipway-Cause: abort` marks an abort's revert.
const PROMOTE = /^(?:\[skip ci\] )?promote \S+ to \S+: /;
const ROLLBACK = /^(?:\[skip ci\] )?roll back \S+ in \S+ to /;

function kindOf(subject: string, cause: string | undefined): ReleaseEventKind | null {
  if (PROMOTE.test(subject)) return 'promote';
  if (ROLLBACK.test(subject)) return cause === 'abort' ? 'abort' : 'rollback';
  return null;
}

/** `repo:tag@digest` → tag; a registry port (`127.0.0.1:5000/hello`) is not a tag. */
function tagOf(image: string): string | null {
  const name = image.split('@')[0] ?? '';
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') ? name.slice(colon + 1) : null;
}

/**
 * The release events of one environment from the commits that changed its overlay (newest first,
 * as `git log` lists them); commits without shipway's trailers (hand edits, merges) are skipped,
 * but still no event is invented for them. Returned newest first.
 */
export function releaseTimeline(environment: string, commits: readonly OverlayCommit[]): ReleaseEvent[] {
  const events: ReleaseEvent[] = [];
  let previous: string | null = null;
  for (const commit of [...commits].reverse()) {
    const subject = commit.message.split('\n')[0] ?? '';
    const trailers = parsePromotionTrailers(commit.message);
    const kind = kindOf(subject, trailers.cause);
    if (kind === null || trailers.environment !== environment) continue;
    const digest = trailers.digest ?? null;
    events.push({
      environment,
      kind,
      commit: commit.sha,
      at: commit.committedAt,
      subject,
      image: trailers.image ?? null,
      tag: trailers.image === undefined ? null : tagOf(trailers.image),
      digest,
      previousDigest: previous,
      sourceEnvironment: trailers.sourceEnvironment ?? null,
      sourceCommit: trailers.sourceCommit ?? null,
      pipeline: trailers.pipeline ?? null,
    });
    previous = digest;
  }
  return events.reverse();
}

/** Every environment's events merged, newest first (ties keep environment order). */
export function mergeTimelines(timelines: readonly (readonly ReleaseEvent[])[]): ReleaseEvent[] {
  return timelines.flat().sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
}
