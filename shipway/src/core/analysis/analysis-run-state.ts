import {
  type AnalysisPhase,
  type AnalysisRunStatus,
  COMPLETED,
  isWorse,
  type Measurement,
  type MetricResult,
  type RunSummary,
  timeOf,
} from './analysis-run-status.js';
import type { RunMetric } from './analysis-template.js';

/**
 * Argo Rollouts' AnalysisRun reconciliation (analysis/analysis.go v1.9.1) as pure functions of
 * the status, the metrics and `now`: which metrics to measure (generateMetricTasks), how a
 * measurement is counted (runMeasurements), how metrics and the run are assessed
 * (assessMetricStatus, assessMetricFailureInconclusiveOrError, assessRunStatus), and when to look
 * again (calculateNextReconcileTime).
 */

/** analysis.go DefaultErrorRetryInterval. */
export const ERROR_RETRY_INTERVAL_MS = 10_000;

const resultOf = (status: AnalysisRunStatus, name: string) => status.metricResults.find((r) => r.name === name);
const lastOf = (result: MetricResult | undefined) => result?.measurements.at(-1);

/** helpers.go IsTerminating: asked to, or a non-dry-run metric already Failed, Error or Inconclusive. */
export function isTerminating(status: AnalysisRunStatus, terminate: boolean): boolean {
  return (
    terminate ||
    status.metricResults.some((r) => r.dryRun !== true && ['Failed', 'Error', 'Inconclusive'].includes(r.phase))
  );
}

/** generateMetricTasks (analysis.go lines 176-250): the metrics due for a measurement at `now`. */
export function dueMetrics(
  status: AnalysisRunStatus,
  metrics: readonly RunMetric[],
  now: number,
  terminate = false,
  errorRetryMs = ERROR_RETRY_INTERVAL_MS,
): RunMetric[] {
  const terminating = isTerminating(status, terminate);
  return metrics.filter((metric) => {
    const result = resultOf(status, metric.name);
    if (result !== undefined && COMPLETED.has(result.phase)) return false;
    if (terminating) return false;
    const last = lastOf(result);
    if (last === undefined) {
      if (metric.initialDelayMs === undefined) return true;
      if (status.startedAt === undefined) return false;
      return !(Date.parse(status.startedAt) + metric.initialDelayMs > now);
    }
    if (metric.count !== undefined && (result?.count ?? 0) >= metric.count) return false;
    const interval = last.phase === 'Error' ? errorRetryMs : (metric.intervalMs ?? errorRetryMs);
    // timeutil.Now().After(finishedAt + interval): strictly after.
    return now > Date.parse(last.finishedAt ?? last.startedAt) + interval;
  });
}

/** runMeasurements' bookkeeping (analysis.go lines 363-424): counters by phase, history appended. */
export function recordMeasurement(
  status: AnalysisRunStatus,
  metric: RunMetric,
  measurement: Measurement,
): AnalysisRunStatus {
  const previous: MetricResult = resultOf(status, metric.name) ?? {
    name: metric.name,
    phase: 'Running',
    measurements: [],
    count: 0,
    successful: 0,
    failed: 0,
    inconclusive: 0,
    error: 0,
    consecutiveError: 0,
    consecutiveSuccess: 0,
    ...(metric.dryRun ? { dryRun: true } : {}),
    ...(metric.provider.kind === 'prometheus' ? { metadata: { ResolvedPrometheusQuery: metric.provider.text } } : {}),
  };
  const r = { ...previous, measurements: [...previous.measurements, measurement] };
  const phase = measurement.phase;
  if (phase === 'Successful')
    Object.assign(r, {
      successful: r.successful + 1,
      count: r.count + 1,
      consecutiveError: 0,
      consecutiveSuccess: r.consecutiveSuccess + 1,
    });
  if (phase === 'Failed')
    Object.assign(r, { failed: r.failed + 1, count: r.count + 1, consecutiveError: 0, consecutiveSuccess: 0 });
  if (phase === 'Inconclusive')
    Object.assign(r, {
      inconclusive: r.inconclusive + 1,
      count: r.count + 1,
      consecutiveError: 0,
      consecutiveSuccess: 0,
    });
  if (phase === 'Error')
    Object.assign(r, { error: r.error + 1, consecutiveError: r.consecutiveError + 1, consecutiveSuccess: 0 });
  const others = status.metricResults.filter((one) => one.name !== metric.name);
  const index = status.metricResults.findIndex((one) => one.name === metric.name);
  const metricResults = index === -1 ? [...others, r] : status.metricResults.map((one, i) => (i === index ? r : one));
  return { ...status, metricResults };
}

/** assessMetricFailureInconclusiveOrError (analysis.go lines 658-687): later checks win. */
export function limitsBreached(metric: RunMetric, r: MetricResult): { phase?: AnalysisPhase; message?: string } {
  let out: { phase?: AnalysisPhase; message?: string } = {};
  if (metric.failureLimit >= 0 && r.failed > metric.failureLimit)
    out = { phase: 'Failed', message: `failed (${r.failed}) > failureLimit (${metric.failureLimit})` };
  if (r.inconclusive > metric.inconclusiveLimit)
    out = {
      phase: 'Inconclusive',
      message: `inconclusive (${r.inconclusive}) > inconclusiveLimit (${metric.inconclusiveLimit})`,
    };
  if (r.consecutiveError > metric.consecutiveErrorLimit)
    out = {
      phase: 'Error',
      message: `consecutiveErrors (${r.consecutiveError}) > consecutiveErrorLimit (${metric.consecutiveErrorLimit})`,
    };
  return out;
}

/** assessMetricStatus (analysis.go lines 579-656). */
export function assessMetric(metric: RunMetric, r: MetricResult, terminating: boolean): AnalysisPhase {
  if (COMPLETED.has(r.phase)) return r.phase;
  const last = r.measurements.at(-1);
  if (last === undefined) return terminating ? 'Successful' : 'Pending';
  if (!COMPLETED.has(last.phase)) return 'Running';
  const breached = limitsBreached(metric, r).phase;
  if (breached !== undefined) return breached;
  const successApplicable = metric.consecutiveSuccessLimit > 0;
  if (successApplicable && r.consecutiveSuccess >= metric.consecutiveSuccessLimit) return 'Successful';
  if (metric.count !== undefined && r.count >= metric.count) {
    if (successApplicable) return metric.failureLimit >= 0 ? 'Inconclusive' : 'Failed';
    return 'Successful';
  }
  return terminating ? 'Successful' : 'Running';
}

function tally(summary: RunSummary, phase: AnalysisPhase | undefined): RunSummary {
  const key =
    phase === 'Error'
      ? 'error'
      : phase === 'Failed'
        ? 'failed'
        : phase === 'Inconclusive'
          ? 'inconclusive'
          : 'successful';
  return { ...summary, [key]: summary[key] + 1 };
}

function withPhase(r: MetricResult, phase: AnalysisPhase): MetricResult {
  if (phase === r.phase) return r;
  const message = r.measurements.at(-1)?.message;
  return message === undefined ? { ...r, phase } : { ...r, phase, message };
}

interface Assessment {
  worst: AnalysisPhase | undefined;
  message: string;
  everythingCompleted: boolean;
  run: RunSummary;
  dry: RunSummary;
}

/** One metric's part of assessRunStatus: its phase, and what it adds to the worst phase and summaries. */
function assessInto(metric: RunMetric, results: MetricResult[], a: Assessment, terminating: boolean): void {
  if (metric.dryRun) a.dry = { ...a.dry, count: a.dry.count + 1 };
  else a.run = { ...a.run, count: a.run.count + 1 };
  const index = results.findIndex((r) => r.name === metric.name);
  const found = results[index];
  if (found === undefined) {
    a.everythingCompleted = false;
    return;
  }
  const r = withPhase(found, assessMetric(metric, found, terminating));
  results[index] = r;
  if (!COMPLETED.has(r.phase)) {
    a.everythingCompleted = false;
    return;
  }
  const breached = limitsBreached(metric, r);
  if (metric.dryRun) {
    a.worst ??= 'Successful';
    if (breached.message !== undefined)
      results[index] = { ...r, message: `Metric assessed ${r.phase} due to ${breached.message}` };
    a.dry = tally(a.dry, breached.phase);
    return;
  }
  if (a.worst === undefined || isWorse(a.worst, r.phase)) {
    a.worst = r.phase;
    if (breached.message !== undefined) {
      a.message = `Metric "${metric.name}" assessed ${r.phase} due to ${breached.message}`;
      if (r.message !== undefined && r.message !== '') a.message += `: "Error Message: ${r.message}"`;
    }
  }
  a.run = tally(a.run, breached.phase);
}

/** assessRunStatus (analysis.go lines 436-573), with the run's completion time. */
export function assessRun(
  status: AnalysisRunStatus,
  metrics: readonly RunMetric[],
  now: number,
  terminate = false,
): AnalysisRunStatus {
  const terminating = isTerminating(status, terminate);
  const empty: RunSummary = { count: 0, successful: 0, failed: 0, inconclusive: 0, error: 0 };
  const a: Assessment = {
    worst: undefined,
    message: terminate ? 'Run Terminated' : '',
    everythingCompleted: true,
    run: empty,
    dry: empty,
  };
  const results = [...status.metricResults];
  for (const metric of metrics) assessInto(metric, results, a, terminating);
  const base: AnalysisRunStatus = {
    ...status,
    metricResults: results,
    startedAt: status.startedAt ?? timeOf(now),
    runSummary: a.run,
    dryRunSummary: a.dry,
  };
  let phase: AnalysisPhase = 'Running';
  if (terminating) phase = a.worst ?? 'Successful';
  else if (a.everythingCompleted && a.worst !== undefined) phase = a.worst;
  if (phase === status.phase) return base;
  const message = phase === 'Running' ? '' : a.message.trim();
  const { message: _, ...rest } = base;
  return {
    ...rest,
    phase,
    ...(message === '' ? {} : { message }),
    ...(COMPLETED.has(phase) && status.completedAt === undefined ? { completedAt: timeOf(now) } : {}),
  };
}

/**
 * garbageCollectMeasurements (analysis.go lines 761-805): each metric keeps its last
 * historyLimit measurements; the counters keep counting.
 */
export function trimHistory(status: AnalysisRunStatus, metrics: readonly RunMetric[]): AnalysisRunStatus {
  const limits = new Map(metrics.map((metric) => [metric.name, metric.historyLimit]));
  const metricResults = status.metricResults.map((r) => {
    const limit = limits.get(r.name) ?? 10;
    return r.measurements.length > limit ? { ...r, measurements: r.measurements.slice(-limit) } : r;
  });
  return { ...status, metricResults };
}

/** calculateNextReconcileTime (analysis.go lines 691-759): the earliest time a metric is due. */
export function nextReconcileAt(
  status: AnalysisRunStatus,
  metrics: readonly RunMetric[],
  now: number,
  errorRetryMs = ERROR_RETRY_INTERVAL_MS,
): number | undefined {
  let next: number | undefined;
  for (const metric of metrics) {
    const r = resultOf(status, metric.name);
    if (r !== undefined && COMPLETED.has(r.phase)) continue;
    const last = lastOf(r);
    let at: number | undefined;
    if (last === undefined) {
      if (metric.initialDelayMs !== undefined) at = Date.parse(status.startedAt ?? timeOf(now)) + metric.initialDelayMs;
    } else if (last.finishedAt !== undefined && !(metric.count !== undefined && (r?.count ?? 0) >= metric.count)) {
      const interval = last.phase === 'Error' ? errorRetryMs : metric.intervalMs;
      if (interval !== undefined) at = Date.parse(last.finishedAt) + interval;
    }
    if (at !== undefined && (next === undefined || at < next)) next = at;
  }
  return next;
}
