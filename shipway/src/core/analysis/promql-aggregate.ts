import type { AggregateOp } from './promql-ast.js';
import type { VectorSample } from './promql-value.js';
import type { Labels } from './series-store.js';
import { labelsKey } from './series-store.js';

/** kahanSumInc (promql/functions.go v3.9.1): Neumaier-compensated summation, as sum and avg use it. */
export function kahanSumInc(inc: number, sum: number, c: number): [number, number] {
  const t = sum + inc;
  if (!Number.isFinite(t) && !Number.isNaN(t)) return [t, 0];
  if (Math.abs(sum) >= Math.abs(inc)) return [t, c + (sum - t + inc)];
  return [t, c + (inc - t + sum)];
}

interface Group {
  labels: Labels;
  value: number;
  compensation: number;
  count: number;
  mean: number;
  incremental: boolean;
}

function groupLabels(labels: Labels, grouping: readonly string[] | undefined, without: boolean): Labels {
  const names = Object.keys(labels).filter((name) =>
    without ? name !== '__name__' && !(grouping ?? []).includes(name) : (grouping ?? []).includes(name),
  );
  return Object.fromEntries(names.map((name) => [name, labels[name] ?? '']));
}

function add(op: AggregateOp, group: Group, value: number): void {
  group.count += 1;
  if (op === 'sum') [group.value, group.compensation] = kahanSumInc(value, group.value, group.compensation);
  else if (op === 'max') {
    if (group.value < value || Number.isNaN(group.value)) group.value = value;
  } else if (op === 'min') {
    if (group.value > value || Number.isNaN(group.value)) group.value = value;
  } else if (op === 'avg') addToMean(group, value);
}

/** avg: a direct Kahan sum until it would overflow, then an incremental mean (engine.go aggregation). */
function addToMean(group: Group, value: number): void {
  if (!group.incremental) {
    const [sum, compensation] = kahanSumInc(value, group.value, group.compensation);
    if (Number.isFinite(sum) || Number.isNaN(sum)) {
      group.value = sum;
      group.compensation = compensation;
      return;
    }
    group.incremental = true;
    group.mean = group.value / (group.count - 1);
    group.compensation /= group.count - 1;
  }
  const q = (group.count - 1) / group.count;
  [group.mean, group.compensation] = kahanSumInc(value / group.count, q * group.mean, q * group.compensation);
}

function result(op: AggregateOp, group: Group): number {
  if (op === 'count') return group.count;
  if (op === 'sum') return group.value + group.compensation;
  if (op === 'avg') {
    if (group.incremental) return group.mean + group.compensation;
    return group.value / group.count + group.compensation / group.count;
  }
  return group.value;
}

/** sum / avg / min / max / count, grouped `by` the listed labels or `without` them (and the name). */
export function aggregate(
  op: AggregateOp,
  vector: readonly VectorSample[],
  grouping: readonly string[] | undefined,
  without: boolean,
): VectorSample[] {
  const groups = new Map<string, Group>();
  for (const sample of vector) {
    const labels = groupLabels(sample.labels, grouping, without);
    const key = labelsKey(labels);
    const group = groups.get(key);
    if (group === undefined) {
      const value = sample.value;
      groups.set(key, { labels, value, compensation: 0, count: 1, mean: value, incremental: false });
    } else add(op, group, sample.value);
  }
  return [...groups.values()].map((group) => ({ labels: group.labels, value: result(op, group) }));
}
