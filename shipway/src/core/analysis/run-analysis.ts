import {
  assessRun,
  dueMetrics,
  ERROR_RETRY_INTERVAL_MS,
  nextReconcileAt,
  recordMeasurement,
  trimHistory,
} from './analysis-run-state.js';
import { type AnalysisRunStatus, COMPLETED, emptyStatus, type Measurement } from './analysis-run-status.js';
import type { RunMetric } from './analysis-template.js';

export interface AnalysisClock {
  now(): number;
  /** Resolves after `ms`, or early when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export interface RunAnalysisOptions {
  readonly clock: AnalysisClock;
  /** Takes one measurement of a metric at `now` (a provider's Run). */
  readonly measure: (metric: RunMetric, now: number) => Promise<Measurement>;
  /** Aborting it terminates the run (spec.terminate): no new measurements, assessed as Argo does. */
  readonly signal?: AbortSignal;
  readonly onUpdate?: (status: AnalysisRunStatus) => void;
  readonly errorRetryMs?: number;
}

/**
 * Drives an AnalysisRun to completion the way Argo's analysis controller reconciles it
 * (analysis/analysis.go reconcileAnalysisRun): measure what is due, count it, assess, and come
 * back at the next due time. Time comes only from the injected clock.
 */
export async function runAnalysis(
  metrics: readonly RunMetric[],
  options: RunAnalysisOptions,
): Promise<AnalysisRunStatus> {
  const { clock, measure, signal } = options;
  const retry = options.errorRetryMs ?? ERROR_RETRY_INTERVAL_MS;
  let status = emptyStatus();
  for (;;) {
    const terminate = signal?.aborted === true;
    const now = clock.now();
    const due = dueMetrics(status, metrics, now, terminate, retry);
    const measured = await Promise.all(due.map((metric) => measure(metric, now)));
    for (const [index, metric] of due.entries()) {
      const measurement = measured[index];
      if (measurement !== undefined) status = recordMeasurement(status, metric, measurement);
    }
    status = trimHistory(assessRun(status, metrics, clock.now(), terminate), metrics);
    options.onUpdate?.(status);
    if (COMPLETED.has(status.phase)) return status;
    const next = nextReconcileAt(status, metrics, clock.now(), retry);
    // Argo measures once now is strictly after the due time: wake just past it.
    await clock.sleep(next === undefined ? 1000 : Math.max(0, next - clock.now()) + 1, signal);
  }
}
