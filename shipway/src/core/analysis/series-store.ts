import type { LabelMatcher } from './promql-ast.js';
import { matchesValue } from './promql-selector.js';

export type Labels = Readonly<Record<string, string>>;

export interface Sample {
  readonly t: number;
  readonly v: number;
  /** Prometheus' staleness marker: the series ended here (its target or the series went away). */
  readonly stale?: true;
}

export interface Series {
  readonly labels: Labels;
  readonly samples: readonly Sample[];
}

/** What the PromQL evaluator reads: series matching every matcher, samples with from < t <= to. */
export interface SeriesSource {
  select(matchers: readonly LabelMatcher[], fromMs: number, toMs: number): Series[];
}

export interface RetentionLimits {
  /** Samples older than this before the newest append are dropped. */
  readonly retentionMs: number;
  readonly maxSamplesPerSeries: number;
  readonly maxSeries: number;
}

export const DEFAULT_RETENTION: RetentionLimits = {
  retentionMs: 15 * 60_000,
  maxSamplesPerSeries: 2000,
  maxSeries: 20_000,
};

/** A label set's identity: names sorted, pairs joined with separators no label contains. */
export function labelsKey(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((name) => `${name}\xff${labels[name]}`)
    .join('\xfe');
}

/** A label (empty values are absent labels in Prometheus' model). */
export function labelOf(labels: Labels, name: string): string {
  return labels[name] ?? '';
}

/**
 * An in-memory time-series store with bounded retention (by age, by samples per series, by
 * series), appended to by the scraper and read by the PromQL evaluator. Like Prometheus' head
 * block it refuses out-of-order and duplicate-timestamp samples.
 */
export class MemorySeriesStore implements SeriesSource {
  private readonly series = new Map<string, { labels: Labels; samples: Sample[] }>();
  private newest = Number.NEGATIVE_INFINITY;
  /** Samples refused: out of order, or a new series beyond maxSeries. */
  rejected = 0;

  constructor(private readonly limits: RetentionLimits = DEFAULT_RETENTION) {}

  append(labels: Labels, t: number, v: number, stale = false): boolean {
    const clean = Object.fromEntries(Object.entries(labels).filter(([, value]) => value !== ''));
    const key = labelsKey(clean);
    let entry = this.series.get(key);
    if (entry === undefined) {
      if (stale) return false;
      if (this.series.size >= this.limits.maxSeries) {
        this.rejected += 1;
        return false;
      }
      entry = { labels: clean, samples: [] };
      this.series.set(key, entry);
    }
    const last = entry.samples.at(-1);
    if (last !== undefined && (t <= last.t || (stale && last.stale === true))) {
      if (!stale) this.rejected += 1;
      return false;
    }
    entry.samples.push(stale ? { t, v: Number.NaN, stale: true } : { t, v });
    if (entry.samples.length > this.limits.maxSamplesPerSeries) entry.samples.shift();
    if (t > this.newest) this.prune(t);
    return true;
  }

  /** Drops what is older than the retention window before `now`, and series left empty. */
  prune(now: number): void {
    this.newest = now;
    const horizon = now - this.limits.retentionMs;
    for (const [key, entry] of this.series) {
      const keep = entry.samples.findIndex((sample) => sample.t > horizon);
      if (keep === -1) this.series.delete(key);
      else if (keep > 0) entry.samples.splice(0, keep);
    }
  }

  get seriesCount(): number {
    return this.series.size;
  }

  select(matchers: readonly LabelMatcher[], fromMs: number, toMs: number): Series[] {
    const out: Series[] = [];
    for (const entry of this.series.values()) {
      if (!matchers.every((matcher) => matchesValue(matcher, labelOf(entry.labels, matcher.name)))) continue;
      const samples = entry.samples.filter((sample) => sample.t > fromMs && sample.t <= toMs);
      if (samples.length > 0) out.push({ labels: entry.labels, samples });
    }
    return out;
  }
}
