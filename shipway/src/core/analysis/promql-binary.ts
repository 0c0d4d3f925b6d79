import type { BinaryOp, VectorMatching } from './promql-ast.js';
import { isComparison } from './promql-ast.js';
import { QueryError, uniqueVector, type VectorSample, withoutName } from './promql-value.js';
import type { Labels } from './series-store.js';
import { labelsKey } from './series-store.js';

/**
 * Binary operators as Prometheus' engine applies them (promql/engine.go v3.9.1: scalarBinop,
 * vectorElemBinop, VectorscalarBinop, VectorBinop, resultMetric). Arithmetic drops the metric
 * name; a comparison without `bool` filters and keeps the left value; with `bool` it yields 0/1.
 */
export function arithmetic(op: BinaryOp, lhs: number, rhs: number): number {
  switch (op) {
    case '+':
      return lhs + rhs;
    case '-':
      return lhs - rhs;
    case '*':
      return lhs * rhs;
    case '/':
      return lhs / rhs;
    case '%':
      return lhs % rhs;
    case '^':
      return lhs ** rhs;
    default:
      return compare(op, lhs, rhs) ? 1 : 0;
  }
}

function compare(op: BinaryOp, lhs: number, rhs: number): boolean {
  const results: Partial<Record<BinaryOp, boolean>> = {
    '==': lhs === rhs,
    '!=': lhs !== rhs,
    '>': lhs > rhs,
    '<': lhs < rhs,
    '>=': lhs >= rhs,
    '<=': lhs <= rhs,
  };
  return results[op] ?? false;
}

/** One element pair: the value to keep, or undefined when a comparison filters it out. */
function elementOp(op: BinaryOp, lhs: number, rhs: number, returnBool: boolean): number | undefined {
  if (!isComparison(op)) return arithmetic(op, lhs, rhs);
  const keep = compare(op, lhs, rhs);
  if (returnBool) return keep ? 1 : 0;
  return keep ? lhs : undefined;
}

export function vectorScalar(
  op: BinaryOp,
  vector: readonly VectorSample[],
  scalar: number,
  scalarOnLeft: boolean,
  returnBool: boolean,
): VectorSample[] {
  const out: VectorSample[] = [];
  for (const sample of vector) {
    const [lhs, rhs] = scalarOnLeft ? [scalar, sample.value] : [sample.value, scalar];
    let value = elementOp(op, lhs, rhs, returnBool);
    if (value === undefined) continue;
    // A comparison keeps the vector element's value even when the scalar is on the left.
    if (isComparison(op) && !returnBool) value = sample.value;
    const dropName = !isComparison(op) || returnBool;
    out.push({ labels: dropName ? withoutName(sample.labels) : sample.labels, value });
  }
  return out;
}

/** signatureFunc: `on` keeps only the listed labels; `ignoring` drops them and the metric name. */
function signature(labels: Labels, matching: VectorMatching): string {
  const names = Object.keys(labels).filter((name) =>
    matching.on ? matching.labels.includes(name) : name !== '__name__' && !matching.labels.includes(name),
  );
  return labelsKey(Object.fromEntries(names.map((name) => [name, labels[name] ?? ''])));
}

function resultLabels(lhs: Labels, rhs: Labels, op: BinaryOp, matching: VectorMatching, returnBool: boolean): Labels {
  let labels: Record<string, string> = { ...(!isComparison(op) || returnBool ? withoutName(lhs) : lhs) };
  if (matching.card === 'one-to-one') {
    labels = Object.fromEntries(
      Object.entries(labels).filter(([name]) => matching.labels.includes(name) === matching.on),
    );
  }
  for (const name of matching.include) {
    const value = rhs[name];
    if (value !== undefined && value !== '') labels[name] = value;
    else delete labels[name];
  }
  return labels;
}

export function vectorVector(
  op: BinaryOp,
  left: readonly VectorSample[],
  right: readonly VectorSample[],
  matching: VectorMatching,
  returnBool: boolean,
): readonly VectorSample[] {
  if (left.length === 0 || right.length === 0) return [];
  const swapped = matching.card === 'one-to-many';
  const [many, one] = swapped ? [right, left] : [left, right];
  const oneBySignature = new Map<string, VectorSample>();
  for (const sample of one) {
    const key = signature(sample.labels, matching);
    if (oneBySignature.has(key))
      throw new QueryError(
        `found duplicate series for the match group on the ${swapped ? 'left' : 'right'} hand-side of the operation; many-to-many matching not allowed: matching labels must be unique on one side`,
      );
    oneBySignature.set(key, sample);
  }
  const matched = new Map<string, Set<string>>();
  const out: VectorSample[] = [];
  for (const sample of many) {
    const key = signature(sample.labels, matching);
    const partner = oneBySignature.get(key);
    if (partner === undefined) continue;
    const [lhs, rhs] = swapped ? [partner.value, sample.value] : [sample.value, partner.value];
    const value = elementOp(op, lhs, rhs, returnBool);
    const labels = resultLabels(sample.labels, partner.labels, op, matching, returnBool);
    const seen = matched.get(key);
    if (matching.card === 'one-to-one' && seen !== undefined)
      throw new QueryError(
        'multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)',
      );
    const inserted = seen ?? new Set<string>();
    if (matching.card !== 'one-to-one' && inserted.has(labelsKey(labels)))
      throw new QueryError('multiple matches for labels: grouping labels must ensure unique matches');
    inserted.add(labelsKey(labels));
    matched.set(key, inserted);
    if (value !== undefined) out.push({ labels, value });
  }
  return uniqueVector(out);
}
