import type { LabelMatcher } from './promql-ast.js';
import { QueryError, type VectorSample, withoutName } from './promql-value.js';
import type { Labels, Sample, Series } from './series-store.js';
import { labelsKey } from './series-store.js';

/**
 * rate(), increase() and delta()'s float case, as Prometheus' extrapolatedRate (promql/functions.go,
 * v3.9.1, lines 182-300): the increase between the first and last sample in the range, counter
 * resets added back, extrapolated to the range's edges when the samples come within 110 % of
 * the average sample spacing of an edge (else by half that spacing), never back past the point
 * where the counter would have been zero.
 */
export function extrapolatedRate(
  samples: readonly Sample[],
  rangeStart: number,
  rangeEnd: number,
  isCounter: boolean,
  isRate: boolean,
): number | undefined {
  if (samples.length < 2) return undefined;
  const first = samples[0] as Sample;
  const last = samples[samples.length - 1] as Sample;
  let result = last.v - first.v;
  if (isCounter) {
    let previous = first.v;
    for (const point of samples.slice(1)) {
      if (point.v < previous) result += previous;
      previous = point.v;
    }
  }
  let durationToStart = (first.t - rangeStart) / 1000;
  let durationToEnd = (rangeEnd - last.t) / 1000;
  const sampledInterval = (last.t - first.t) / 1000;
  const averageDurationBetweenSamples = sampledInterval / (samples.length - 1);
  const extrapolationThreshold = averageDurationBetweenSamples * 1.1;
  if (durationToStart >= extrapolationThreshold) durationToStart = averageDurationBetweenSamples / 2;
  if (isCounter) {
    let durationToZero = durationToStart;
    if (result > 0 && first.v >= 0) durationToZero = sampledInterval * (first.v / result);
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }
  if (durationToEnd >= extrapolationThreshold) durationToEnd = averageDurationBetweenSamples / 2;
  let factor = (sampledInterval + durationToStart + durationToEnd) / sampledInterval;
  if (isRate) factor /= (rangeEnd - rangeStart) / 1000;
  return result * factor;
}

/** irate(): the last two samples' per-second rate; a reset counts from zero (functions.go instantValue). */
export function instantRate(samples: readonly Sample[]): number | undefined {
  if (samples.length < 2) return undefined;
  const [previous, last] = samples.slice(-2) as [Sample, Sample];
  const sampledInterval = last.t - previous.t;
  if (sampledInterval === 0) return undefined;
  const delta = last.v < previous.v ? last.v : last.v - previous.v;
  return delta / (sampledInterval / 1000);
}

/** rate / increase / irate over each series of a range selection; the metric name is dropped. */
export function rangeFunction(
  fn: 'rate' | 'increase' | 'irate',
  series: readonly Series[],
  now: number,
  rangeMs: number,
): VectorSample[] {
  const out: VectorSample[] = [];
  for (const one of series) {
    const value =
      fn === 'irate'
        ? instantRate(one.samples)
        : extrapolatedRate(one.samples, now - rangeMs, now, true, fn === 'rate');
    if (value !== undefined) out.push({ labels: withoutName(one.labels), value });
  }
  return out;
}

interface Bucket {
  upperBound: number;
  count: number;
}

function almostEqual(a: number, b: number, epsilon: number): boolean {
  if (a === b) return true;
  const minNormal = 2.2250738585072014e-308;
  const absSum = Math.abs(a) + Math.abs(b);
  const diff = Math.abs(a - b);
  if (a === 0 || b === 0 || absSum < minNormal) return diff < epsilon * minNormal;
  return diff / Math.min(absSum, Number.MAX_VALUE) < epsilon;
}

/** promql/quantile.go BucketQuantile (v3.9.1, lines 108-162), with coalesceBuckets and ensureMonotonic. */
export function bucketQuantile(q: number, input: readonly Bucket[]): number {
  if (Number.isNaN(q)) return Number.NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const sorted = [...input].sort((a, b) => a.upperBound - b.upperBound);
  if (sorted.at(-1)?.upperBound !== Infinity) return Number.NaN;
  const buckets: Bucket[] = [];
  for (const bucket of sorted) {
    const last = buckets.at(-1);
    if (last !== undefined && last.upperBound === bucket.upperBound) last.count += bucket.count;
    else buckets.push({ ...bucket });
  }
  let previous = buckets[0]?.count ?? 0;
  for (const bucket of buckets.slice(1)) {
    if (bucket.count === previous) continue;
    if (almostEqual(previous, bucket.count, 1e-12) || bucket.count < previous) bucket.count = previous;
    else previous = bucket.count;
  }
  if (buckets.length < 2) return Number.NaN;
  const observations = buckets[buckets.length - 1]?.count ?? 0;
  if (observations === 0) return Number.NaN;
  let rank = q * observations;
  let b = buckets.slice(0, -1).findIndex((bucket) => bucket.count >= rank);
  if (b === -1) b = buckets.length - 1;
  if (b === buckets.length - 1) return buckets[buckets.length - 2]?.upperBound ?? Number.NaN;
  if (b === 0 && (buckets[0]?.upperBound ?? 0) <= 0) return buckets[0]?.upperBound ?? Number.NaN;
  const bucketEnd = buckets[b]?.upperBound ?? Number.NaN;
  let count = buckets[b]?.count ?? 0;
  let bucketStart = 0;
  if (b > 0) {
    bucketStart = buckets[b - 1]?.upperBound ?? 0;
    count -= buckets[b - 1]?.count ?? 0;
    rank -= buckets[b - 1]?.count ?? 0;
  }
  return bucketStart + (bucketEnd - bucketStart) * (rank / count);
}

/** histogram_quantile over classic buckets: grouped by every label but `le` (engine.go resetHistograms). */
export function histogramQuantile(q: number, vector: readonly VectorSample[]): VectorSample[] {
  const groups = new Map<string, { labels: Labels; buckets: Bucket[] }>();
  for (const sample of vector) {
    const { le, ...rest } = sample.labels;
    const upperBound = le === undefined ? Number.NaN : parseBound(le);
    if (Number.isNaN(upperBound)) continue;
    const labels = withoutName(rest);
    const key = labelsKey(labels);
    const group = groups.get(key) ?? { labels, buckets: [] };
    group.buckets.push({ upperBound, count: sample.value });
    groups.set(key, group);
  }
  return [...groups.values()].map((group) => ({ labels: group.labels, value: bucketQuantile(q, group.buckets) }));
}

function parseBound(text: string): number {
  if (/^\+?inf$/i.test(text)) return Infinity;
  if (/^-inf$/i.test(text)) return -Infinity;
  return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text) ? Number(text) : Number.NaN;
}

export function clampVector(vector: readonly VectorSample[], min: number, max: number): VectorSample[] {
  if (max < min) return [];
  return vector.map((sample) => ({
    labels: withoutName(sample.labels),
    value: Math.max(min, Math.min(max, sample.value)),
  }));
}

/** scalar(): the single element's value, else NaN. */
export function scalarOf(vector: readonly VectorSample[]): number {
  return vector.length === 1 ? (vector[0]?.value ?? Number.NaN) : Number.NaN;
}

/** absent(): 1 with the selector's equality labels when nothing matched (createLabelsForAbsentFunction). */
export function absentOf(
  vector: readonly VectorSample[],
  matchers: readonly LabelMatcher[] | undefined,
): VectorSample[] {
  if (vector.length > 0) return [];
  const labels: Record<string, string> = {};
  const seen = new Set<string>();
  for (const matcher of matchers ?? []) {
    if (matcher.name === '__name__') continue;
    if (matcher.type === '=' && !seen.has(matcher.name)) {
      labels[matcher.name] = matcher.value;
      seen.add(matcher.name);
    } else delete labels[matcher.name];
  }
  return [{ labels, value: 1 }];
}

export function requireScalar(value: number | undefined, what: string): number {
  if (value === undefined) throw new QueryError(`${what} needs a scalar`);
  return value;
}
