import { formatVersion } from '../image-ref.js';

/** Trailers shipway writes on every promotion commit (git-interpret-trailers format). */
export interface PromotionTrailers {
  readonly environment: string;
  readonly image: string;
  readonly digest: string | null;
  readonly sourceEnvironment: string | null;
  readonly sourceCommit: string | null;
  readonly pipeline: string | null;
  /** Why a rollback was made: `abort` when `rollout abort` pinned the stable image again. */
  readonly cause?: 'abort' | null | undefined;
}

const KEYS: Record<keyof PromotionTrailers, string> = {
  environment: 'Shipway-Environment',
  image: 'Shipway-Image',
  digest: 'Shipway-Digest',
  sourceEnvironment: 'Shipway-Source-Environment',
  sourceCommit: 'Shipway-Source-Commit',
  pipeline: 'Shipway-Pipeline',
  cause: 'Shipway-Cause',
};

/**
 * `[skip ci]` keeps GitLab from starting a pipeline for the promotion commit itself
 * (docs.gitlab.com/ci/pipelines/#skip-a-pipeline); workflow:rules also filter on the trailer.
 */
export function formatPromotionMessage(
  verb: 'promote' | 'rollback',
  app: string,
  tag: string | null,
  trailers: PromotionTrailers,
): string {
  const version = formatVersion({ tag, digest: trailers.digest });
  const subject =
    verb === 'promote'
      ? `[skip ci] promote ${app} to ${trailers.environment}: ${version}`
      : `[skip ci] roll back ${app} in ${trailers.environment} to ${version}`;
  const lines = (Object.keys(KEYS) as (keyof PromotionTrailers)[])
    .filter((key) => trailers[key] !== null && trailers[key] !== undefined)
    .map((key) => `${KEYS[key]}: ${trailers[key]}`);
  return `${subject}\n\n${lines.join('\n')}\n`;
}

/** Reads shipway trailers back from a commit message; absent ones are null. */
export function parsePromotionTrailers(message: string): Partial<Record<keyof PromotionTrailers, string>> {
  const found: Partial<Record<keyof PromotionTrailers, string>> = {};
  for (const line of message.split('\n')) {
    for (const [key, label] of Object.entries(KEYS) as [keyof PromotionTrailers, string][]) {
      if (line.startsWith(`${label}: `)) found[key] = line.slice(label.length + 2).trim();
    }
  }
  return found;
}
