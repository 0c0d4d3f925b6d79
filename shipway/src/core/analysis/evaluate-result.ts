import { evaluateCondition } from '../rollout/analysis-expression.js';
import type { AnalysisPhase, Measurement } from './analysis-run-status.js';
import { timeOf } from './analysis-run-status.js';
import type { RunMetric } from './analysis-template.js';
import type { QueryValue } from './promql-value.js';

/**
 * utils/evaluate/evaluate.go EvaluateResult (v1.9.1): no conditions is Successful; only a
 * successCondition that is false is Failed; only a failureCondition that is false is Successful;
 * both false is Inconclusive; a failureCondition that holds is Failed.
 */
export function evaluateResult(
  result: unknown,
  metric: Pick<RunMetric, 'successCondition' | 'failureCondition'>,
): AnalysisPhase {
  const { successCondition, failureCondition } = metric;
  let success = successCondition === undefined ? false : evaluateCondition(successCondition, result);
  let failure = failureCondition === undefined ? false : evaluateCondition(failureCondition, result);
  if (successCondition === undefined && failureCondition === undefined) return 'Successful';
  if (successCondition !== undefined && failureCondition === undefined) failure = !success;
  if (successCondition === undefined && failureCondition !== undefined) success = !failure;
  if (failure) return 'Failed';
  if (!success) return 'Inconclusive';
  return 'Successful';
}

/** Go's strconv.FormatFloat(f, 'f', -1, 64), which model.SampleValue.String uses: no exponent. */
export function formatGoFloat(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf';
  const text = String(value);
  const match = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (match === null) return text;
  const [, sign = '', lead = '', fraction = '', exponentText = '0'] = match;
  const digits = lead + fraction;
  const exponent = Number(exponentText);
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  return (
    sign +
    (digits.length <= exponent + 1
      ? digits + '0'.repeat(exponent + 1 - digits.length)
      : `${digits.slice(0, exponent + 1)}.${digits.slice(exponent + 1)}`)
  );
}

export function errorMeasurement(error: unknown, startedAt: number, finishedAt: number): Measurement {
  return {
    phase: 'Error',
    message: error instanceof Error ? error.message : String(error),
    startedAt: timeOf(startedAt),
    finishedAt: timeOf(finishedAt),
  };
}

/**
 * metricproviders/prometheus/prometheus.go processResponse: a scalar reaches the conditions as a
 * float, a vector (or a matrix, flattened) as a list of floats; the measurement's value is the
 * scalar, or `[v1,v2]`. Any other result type is an Error.
 */
export function prometheusMeasurement(
  value: QueryValue,
  metric: RunMetric,
  startedAt: number,
  finishedAt: number,
): Measurement {
  let result: unknown;
  let text: string;
  if (value.type === 'scalar') {
    result = value.value;
    text = formatGoFloat(value.value);
  } else if (value.type === 'vector' || value.type === 'matrix') {
    const floats =
      value.type === 'vector'
        ? value.samples.map((s) => s.value)
        : value.series.flatMap((s) => s.samples.map((p) => p.v));
    result = floats;
    text = `[${floats.map(formatGoFloat).join(',')}]`;
  } else return errorMeasurement('Prometheus metric type not supported', startedAt, finishedAt);
  try {
    const phase = evaluateResult(result, metric);
    return { phase, value: text, startedAt: timeOf(startedAt), finishedAt: timeOf(finishedAt) };
  } catch (error) {
    return errorMeasurement(error, startedAt, finishedAt);
  }
}
