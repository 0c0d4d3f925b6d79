import type { Measurement } from './analysis-run-status.js';
import { timeOf } from './analysis-run-status.js';
import type { RunMetric } from './analysis-template.js';
import { errorMeasurement, evaluateResult } from './evaluate-result.js';
import { findJsonPath, JsonPathError, parseJsonPath } from './json-path.js';

export interface WebResponse {
  readonly status: number;
  readonly body: string;
}

/**
 * metricproviders/webmetric/webmetric.go (v1.9.1) Run and parseResponse: a non-2xx answer is an
 * Error; a body that is not JSON is Successful with the body as its value (no condition is
 * evaluated); otherwise the first value the jsonPath finds is the result, its JSON the value.
 */
export function webMeasurement(
  response: WebResponse,
  metric: RunMetric,
  startedAt: number,
  finishedAt: number,
): Measurement {
  if (metric.provider.kind !== 'web') return errorMeasurement('not a web metric', startedAt, finishedAt);
  if (response.status < 200 || response.status >= 300)
    return errorMeasurement(`received non 2xx response code: ${response.status}`, startedAt, finishedAt);
  let data: unknown;
  try {
    data = JSON.parse(response.body);
  } catch {
    return { phase: 'Successful', value: response.body, startedAt: timeOf(startedAt), finishedAt: timeOf(finishedAt) };
  }
  try {
    const found = findJsonPath(data, parseJsonPath(metric.provider.web.jsonPath ?? ''));
    if (found.length === 0) return errorMeasurement('result of web metric produced no value', startedAt, finishedAt);
    const [value] = found;
    const phase = evaluateResult(value, metric);
    return { phase, value: JSON.stringify(value), startedAt: timeOf(startedAt), finishedAt: timeOf(finishedAt) };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return errorMeasurement(
      error instanceof JsonPathError ? `Could not find JSONPath in body: ${message}` : message,
      startedAt,
      finishedAt,
    );
  }
}

/** The request checks webmetric.go makes before sending (lines 72-76); undefined when fine. */
export function webRequestProblem(metric: RunMetric): string | undefined {
  if (metric.provider.kind !== 'web') return 'not a web metric';
  const { method = 'GET', body, jsonBody } = metric.provider.web;
  if (body !== undefined && body !== '' && jsonBody !== undefined)
    return 'use either Body or JSONBody; both cannot exists for WebMetric payload';
  if (((body !== undefined && body !== '') || jsonBody !== undefined) && method === 'GET')
    return 'Body/JSONBody can only be used with POST or PUT WebMetric Method types';
  return undefined;
}
