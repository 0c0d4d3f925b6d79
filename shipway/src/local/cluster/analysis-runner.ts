import { request } from 'node:http';
import { evaluateCondition } from '../../core/rollout/analysis-expression.js';

export type AnalysisPhase = 'Running' | 'Successful' | 'Failed' | 'Inconclusive' | 'Error';

export interface AnalysisMetric {
  readonly name: string;
  readonly successCondition?: string;
  readonly failureCondition?: string;
  readonly count?: number;
  readonly failureLimit?: number;
  readonly inconclusiveLimit?: number;
  readonly intervalMs: number;
}

/** Requests and 5xx answers summed over `http_requests_total` in a Prometheus text exposition. */
export function requestCounts(text: string): { total: number; errors: number } {
  let total = 0;
  let errors = 0;
  for (const line of text.split('\n')) {
    const match = /^http_requests_total\{([^}]*)\}\s+([0-9.eE+-]+)/.exec(line);
    if (match === null) continue;
    const value = Number(match[2]);
    total += value;
    if (/status="5\d\d"/.test(match[1] ?? '')) errors += value;
  }
  return { total, errors };
}

function scrape(port: number): Promise<{ total: number; errors: number }> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/metrics', timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on('end', () => resolve(requestCounts(body)));
    });
    req.on('error', () => resolve({ total: 0, errors: 0 }));
    req.end();
  });
}

/**
 * The embedded cluster's stand-in for Prometheus: each measurement is the canary pods' own 5xx
 * ratio since the previous one, read from their /metrics, and the AnalysisTemplate's
 * successCondition / failureCondition decide it as Argo Rollouts' analysis controller would
 * (count measurements, failureLimit, inconclusiveLimit). The template's PromQL is not run.
 */
export async function runAnalysis(
  metric: AnalysisMetric,
  canaryPorts: () => number[],
  cancelled: () => boolean,
): Promise<{ phase: AnalysisPhase; message: string }> {
  const count = metric.count ?? 1;
  let failures = 0;
  let inconclusive = 0;
  let previous = { total: 0, errors: 0 };
  for (const port of canaryPorts()) {
    const counts = await scrape(port);
    previous = { total: previous.total + counts.total, errors: previous.errors + counts.errors };
  }
  for (let measurement = 0; measurement < count; measurement += 1) {
    await new Promise((resolve) => setTimeout(resolve, metric.intervalMs));
    if (cancelled()) return { phase: 'Error', message: 'cancelled' };
    let now = { total: 0, errors: 0 };
    for (const port of canaryPorts()) {
      const counts = await scrape(port);
      now = { total: now.total + counts.total, errors: now.errors + counts.errors };
    }
    const requests = now.total - previous.total;
    const result = requests > 0 ? [(now.errors - previous.errors) / requests] : [];
    previous = now;
    try {
      if (metric.failureCondition !== undefined && evaluateCondition(metric.failureCondition, result)) failures += 1;
      else if (metric.successCondition !== undefined && !evaluateCondition(metric.successCondition, result))
        inconclusive += 1;
    } catch (error) {
      return {
        phase: 'Error',
        message: `metric "${metric.name}": ${error instanceof Error ? error.message : String(error)}`,
      };
    }
    if (failures > (metric.failureLimit ?? 0)) {
      return {
        phase: 'Failed',
        message: `metric "${metric.name}" assessed Failed due to failed (${failures}) > failureLimit (${metric.failureLimit ?? 0})`,
      };
    }
    if (inconclusive > (metric.inconclusiveLimit ?? 0)) {
      return {
        phase: 'Inconclusive',
        message: `metric "${metric.name}" assessed Inconclusive due to inconclusive (${inconclusive}) > inconclusiveLimit (${metric.inconclusiveLimit ?? 0})`,
      };
    }
  }
  return { phase: 'Successful', message: `metric "${metric.name}" assessed Successful` };
}
