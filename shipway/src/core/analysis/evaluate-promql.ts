import type { ParsedQuery } from './parse-promql.js';
import { aggregate } from './promql-aggregate.js';
import type { Expr, LabelMatcher } from './promql-ast.js';
import { arithmetic, vectorScalar, vectorVector } from './promql-binary.js';
import {
  absentOf,
  clampVector,
  histogramQuantile,
  rangeFunction,
  requireScalar,
  scalarOf,
} from './promql-functions.js';
import { QueryError, type QueryValue, uniqueVector, type VectorSample, withoutName } from './promql-value.js';
import type { Series, SeriesSource } from './series-store.js';

/** Prometheus' default lookback for instant selectors (engine.go defaultLookbackDelta). */
export const LOOKBACK_MS = 5 * 60_000;

interface Context {
  readonly source: SeriesSource;
  readonly now: number;
  readonly lookbackMs: number;
}

type Value =
  | { readonly type: 'scalar'; readonly value: number }
  | { readonly type: 'vector'; readonly samples: readonly VectorSample[] };

/**
 * An instant vector selector: each matching series' newest sample no older than the lookback
 * window, unless that sample is a staleness marker (engine.go vectorSelectorSingle).
 */
function selectInstant(context: Context, matchers: readonly LabelMatcher[]): VectorSample[] {
  const out: VectorSample[] = [];
  for (const series of context.source.select(matchers, context.now - context.lookbackMs, context.now)) {
    const last = series.samples.at(-1);
    if (last !== undefined && last.stale !== true) out.push({ labels: series.labels, value: last.v });
  }
  return out;
}

/** A range selection: samples with now - range < t <= now, staleness markers left out (matrixIterSlice). */
function selectRange(context: Context, matchers: readonly LabelMatcher[], rangeMs: number): Series[] {
  return context.source
    .select(matchers, context.now - rangeMs, context.now)
    .map((series) => ({ labels: series.labels, samples: series.samples.filter((sample) => sample.stale !== true) }))
    .filter((series) => series.samples.length > 0);
}

function vectorOf(value: Value): readonly VectorSample[] {
  if (value.type !== 'vector') throw new QueryError('expected an instant vector');
  return value.samples;
}

function scalarValue(value: Value): number {
  if (value.type !== 'scalar') throw new QueryError('expected a scalar');
  return value.value;
}

function call(context: Context, expr: Extract<Expr, { kind: 'call' }>): Value {
  const [first, second] = expr.args;
  if (expr.fn === 'rate' || expr.fn === 'irate' || expr.fn === 'increase') {
    if (first?.kind !== 'matrix') throw new QueryError(`${expr.fn}() needs a range selector`);
    const series = selectRange(context, first.matchers, first.rangeMs);
    return { type: 'vector', samples: uniqueVector(rangeFunction(expr.fn, series, context.now, first.rangeMs)) };
  }
  const arg = (node: Expr | undefined) => evaluate(context, node ?? { kind: 'number', value: Number.NaN });
  switch (expr.fn) {
    case 'histogram_quantile':
      return {
        type: 'vector',
        samples: uniqueVector(histogramQuantile(scalarValue(arg(first)), vectorOf(arg(second)))),
      };
    case 'vector':
      return { type: 'vector', samples: [{ labels: {}, value: scalarValue(arg(first)) }] };
    case 'scalar':
      return { type: 'scalar', value: scalarOf(vectorOf(arg(first))) };
    case 'clamp_min':
      return {
        type: 'vector',
        samples: uniqueVector(clampVector(vectorOf(arg(first)), scalarValue(arg(second)), Infinity)),
      };
    case 'clamp_max':
      return {
        type: 'vector',
        samples: uniqueVector(clampVector(vectorOf(arg(first)), -Infinity, scalarValue(arg(second)))),
      };
    case 'absent': {
      const matchers = first?.kind === 'selector' ? first.matchers : undefined;
      return { type: 'vector', samples: absentOf(vectorOf(arg(first)), matchers) };
    }
  }
}

function binary(context: Context, expr: Extract<Expr, { kind: 'binary' }>): Value {
  const lhs = evaluate(context, expr.lhs);
  const rhs = evaluate(context, expr.rhs);
  if (lhs.type === 'scalar' && rhs.type === 'scalar')
    return { type: 'scalar', value: arithmetic(expr.op, lhs.value, rhs.value) };
  if (lhs.type === 'vector' && rhs.type === 'vector')
    return { type: 'vector', samples: vectorVector(expr.op, lhs.samples, rhs.samples, expr.matching, expr.returnBool) };
  const vector = lhs.type === 'vector' ? lhs.samples : vectorOf(rhs);
  const scalar =
    lhs.type === 'scalar' ? lhs.value : requireScalar(rhs.type === 'scalar' ? rhs.value : undefined, expr.op);
  return { type: 'vector', samples: vectorScalar(expr.op, vector, scalar, lhs.type === 'scalar', expr.returnBool) };
}

function evaluate(context: Context, expr: Expr): Value {
  switch (expr.kind) {
    case 'number':
      return { type: 'scalar', value: expr.value };
    case 'selector':
      return { type: 'vector', samples: selectInstant(context, expr.matchers) };
    case 'call':
      return call(context, expr);
    case 'aggregate':
      return {
        type: 'vector',
        samples: aggregate(expr.op, vectorOf(evaluate(context, expr.arg)), expr.grouping, expr.without),
      };
    case 'binary':
      return binary(context, expr);
    case 'negate': {
      const value = evaluate(context, expr.arg);
      if (value.type === 'scalar') return { type: 'scalar', value: -value.value };
      return {
        type: 'vector',
        samples: uniqueVector(value.samples.map((s) => ({ labels: withoutName(s.labels), value: -s.value }))),
      };
    }
    default:
      throw new QueryError(`a ${expr.kind} cannot be evaluated here`);
  }
}

/** Evaluates a parsed query at `now` (ms) over the series a source holds: Prometheus' instant query. */
export function evaluatePromql(
  query: ParsedQuery,
  source: SeriesSource,
  now: number,
  lookbackMs = LOOKBACK_MS,
): QueryValue {
  const context: Context = { source, now, lookbackMs };
  const { expr } = query;
  if (expr.kind === 'string') return { type: 'string', value: expr.value };
  if (expr.kind === 'matrix') return { type: 'matrix', series: selectRange(context, expr.matchers, expr.rangeMs) };
  return evaluate(context, expr);
}
