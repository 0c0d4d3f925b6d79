import type { ReleaseEvent } from '../dashboard/release-timeline.js';

/**
 * DORA's four keys (dora.dev/research: lead time for changes, deployment frequency, change
 * failure rate, time to restore service), computed from what shipway leaves behind:
 *
 * - the release events of every environment branch (core/dashboard/release-timeline.ts: each
 *   `promote` / `roll back` commit with its `Shipway-*` trailers; an abort's revert carries
 *   `Shipway-Cause: abort`);
 * - the committer time of the commits images were built from (`Shipway-Source-Commit` of an
 *   `--image` promotion), read from the same Git remote;
 * - rollout phase changes, when something recorded them (the dashboard does, per environment).
 *
 * Definitions (every time is an instant; the window is [start, end)):
 * - Deployment frequency, per environment: the `promote` events in the window (rollbacks and
 *   abort reverts are not deployments of a change), and that count ÷ the window's days.
 * - Lead time for changes, per production release in the window: its promotion time minus the
 *   committer time of the commit its image was built from. That commit is the Source-Commit of
 *   the earliest `--image` promotion (no Source-Environment) of the same digest in any
 *   environment; a release without one, or whose commit is not in the history read, has no lead
 *   time and is counted as `unknown`. The figure is the median (and the mean) of the samples.
 * - Change failure rate: production releases in the window that failed ÷ production releases in
 *   the window. A release failed when it was the one pinned just before a production `rollback`
 *   or `abort` commit (that commit's previous digest, with no other promotion in between), or
 *   when a recorded rollout event shows its canary aborted before the next promotion.
 * - Time to restore, per failed release: from the failure (the earliest of the rollback/abort
 *   commit and the recorded abort) to the first recorded `Healthy` phase of production at or
 *   after it. Without recorded rollout events the restore time is unknown. Median and mean.
 */
export interface RolloutEvent {
  readonly at: string;
  readonly environment: string;
  readonly phase: string;
  /** The canary's digest (the Rollout's pod template) when the phase was seen. */
  readonly digest: string | null;
  readonly aborted: boolean;
}

export interface DoraInput {
  readonly events: readonly ReleaseEvent[];
  readonly commitTimes: ReadonlyMap<string, string>;
  readonly rolloutEvents: readonly RolloutEvent[];
  /** Environment names in promotion order; the last one is production. */
  readonly environments: readonly string[];
  readonly window: { readonly start: string; readonly end: string };
}

export interface Summary {
  readonly samples: number;
  readonly unknown: number;
  readonly medianSeconds: number | null;
  readonly meanSeconds: number | null;
}

export interface LeadTimeSample {
  readonly digest: string | null;
  readonly commit: string | null;
  readonly committedAt: string | null;
  readonly promotedAt: string;
  readonly seconds: number | null;
}

export interface FailureSample {
  readonly digest: string | null;
  readonly releasedAt: string;
  readonly failedAt: string;
  readonly restoredAt: string | null;
  readonly seconds: number | null;
}

export interface DoraMetrics {
  readonly window: { readonly start: string; readonly end: string; readonly days: number };
  readonly production: string;
  readonly deploymentFrequency: readonly {
    readonly environment: string;
    readonly deployments: number;
    readonly perDay: number;
  }[];
  readonly leadTime: Summary & { readonly releases: readonly LeadTimeSample[] };
  readonly changeFailureRate: { readonly releases: number; readonly failed: number; readonly ratio: number | null };
  readonly timeToRestore: Summary & { readonly failures: readonly FailureSample[] };
}

const DAY_MS = 86_400_000;

function summarise(values: readonly (number | null)[]): Summary {
  const known = values.filter((value): value is number => value !== null).sort((a, b) => a - b);
  if (known.length === 0) return { samples: 0, unknown: values.length, medianSeconds: null, meanSeconds: null };
  const middle = Math.floor(known.length / 2);
  const median = known.length % 2 === 1 ? (known[middle] ?? 0) : ((known[middle - 1] ?? 0) + (known[middle] ?? 0)) / 2;
  const mean = known.reduce((sum, value) => sum + value, 0) / known.length;
  return { samples: known.length, unknown: values.length - known.length, medianSeconds: median, meanSeconds: mean };
}

const time = (iso: string) => Date.parse(iso);
const seconds = (from: string, to: string) => (time(to) - time(from)) / 1000;

function buildCommitOf(events: readonly ReleaseEvent[], digest: string | null): string | null {
  if (digest === null) return null;
  const built = events
    .filter((event) => event.kind === 'promote' && event.digest === digest && event.sourceEnvironment === null)
    .sort((a, b) => time(a.at) - time(b.at));
  return built[0]?.sourceCommit ?? null;
}

function leadTimes(input: DoraInput, releases: readonly ReleaseEvent[]): LeadTimeSample[] {
  return releases.map((release) => {
    const commit = buildCommitOf(input.events, release.digest);
    const committedAt = commit === null ? null : (input.commitTimes.get(commit) ?? null);
    return {
      digest: release.digest,
      commit,
      committedAt,
      promotedAt: release.at,
      seconds: committedAt === null ? null : seconds(committedAt, release.at),
    };
  });
}

/** When a production release failed: the revert that replaced it, or its recorded abort; null if it did not. */
function failureTime(input: DoraInput, prod: readonly ReleaseEvent[], release: ReleaseEvent): string | null {
  const later = prod.filter((event) => time(event.at) >= time(release.at) && event !== release);
  const nextPromotion = later.find((event) => event.kind === 'promote');
  const until = nextPromotion === undefined ? Number.POSITIVE_INFINITY : time(nextPromotion.at);
  const candidates: string[] = [];
  const revert = later.find(
    (event) => event.kind !== 'promote' && time(event.at) <= until && event.previousDigest === release.digest,
  );
  if (revert !== undefined) candidates.push(revert.at);
  const abort = input.rolloutEvents.find(
    (event) =>
      event.environment === release.environment &&
      event.aborted &&
      event.digest === release.digest &&
      time(event.at) >= time(release.at) &&
      time(event.at) < until,
  );
  if (abort !== undefined) candidates.push(abort.at);
  return candidates.sort((a, b) => time(a) - time(b))[0] ?? null;
}

export function computeDora(input: DoraInput): DoraMetrics {
  const start = time(input.window.start);
  const end = time(input.window.end);
  const days = (end - start) / DAY_MS;
  const production = input.environments[input.environments.length - 1] ?? '';
  const inWindow = (event: ReleaseEvent) => time(event.at) >= start && time(event.at) < end;
  const promotions = input.events.filter((event) => event.kind === 'promote' && inWindow(event));
  const prod = input.events.filter((event) => event.environment === production).sort((a, b) => time(a.at) - time(b.at));
  const releases = prod.filter((event) => event.kind === 'promote' && inWindow(event));
  const lead = leadTimes(input, releases);
  const failures: FailureSample[] = [];
  for (const release of releases) {
    const failedAt = failureTime(input, prod, release);
    if (failedAt === null) continue;
    const healthy = input.rolloutEvents
      .filter(
        (event) => event.environment === production && event.phase === 'Healthy' && time(event.at) >= time(failedAt),
      )
      .sort((a, b) => time(a.at) - time(b.at))[0];
    failures.push({
      digest: release.digest,
      releasedAt: release.at,
      failedAt,
      restoredAt: healthy?.at ?? null,
      seconds: healthy === undefined ? null : seconds(failedAt, healthy.at),
    });
  }
  return {
    window: { start: input.window.start, end: input.window.end, days },
    production,
    deploymentFrequency: input.environments.map((environment) => {
      const deployments = promotions.filter((event) => event.environment === environment).length;
      return { environment, deployments, perDay: days > 0 ? deployments / days : 0 };
    }),
    leadTime: { ...summarise(lead.map((sample) => sample.seconds)), releases: lead },
    changeFailureRate: {
      releases: releases.length,
      failed: failures.length,
      ratio: releases.length === 0 ? null : failures.length / releases.length,
    },
    timeToRestore: { ...summarise(failures.map((failure) => failure.seconds)), failures },
  };
}
