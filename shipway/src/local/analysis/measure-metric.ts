import { webRequest } from '../../adapters/metrics/http-metrics.js';
import type { Measurement } from '../../core/analysis/analysis-run-status.js';
import type { RunMetric } from '../../core/analysis/analysis-template.js';
import { evaluatePromql } from '../../core/analysis/evaluate-promql.js';
import { errorMeasurement, prometheusMeasurement } from '../../core/analysis/evaluate-result.js';
import type { SeriesSource } from '../../core/analysis/series-store.js';
import { webMeasurement, webRequestProblem } from '../../core/analysis/web-measurement.js';

/**
 * The providers shipway runs: `prometheus` answers the template's query from the embedded
 * series store (the address is not contacted: the embedded scraper stands in for that
 * Prometheus), evaluated at the measurement's time; `web` sends the template's request.
 */
export function createMeasure(
  source: SeriesSource,
  now: () => number,
): (metric: RunMetric, at: number) => Promise<Measurement> {
  return async (metric, at) => {
    const provider = metric.provider;
    if (provider.kind === 'prometheus') {
      try {
        return prometheusMeasurement(evaluatePromql(provider.query, source, at), metric, at, now());
      } catch (error) {
        return errorMeasurement(error, at, now());
      }
    }
    const problem = webRequestProblem(metric);
    if (problem !== undefined) return errorMeasurement(problem, at, now());
    try {
      return webMeasurement(await webRequest(provider.web), metric, at, now());
    } catch (error) {
      return errorMeasurement(error, at, now());
    }
  };
}
