import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/**
 * The service's Prometheus metrics. The names are a contract: the prod canary's AnalysisTemplate
 * (deployment/base) and shipway's embedded cluster query `http_requests_total` by `status`.
 */
export interface ServiceMetrics {
  readonly registry: Registry;
  observe(route: string, method: string, status: number, seconds: number): void;
}

// Buckets sized for a small HTTP service: sub-millisecond to a few seconds.
const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

interface Series {
  readonly requests: { inc(): void };
  readonly duration: { observe(value: number): void };
}

export function createMetrics(): ServiceMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests served, by route template, method and status code.',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from request received to response sent, by route template, method and status code.',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  // prom-client hashes the label set on every call; the set of series is small and fixed per
  // route, so resolving each one once keeps the per-request cost to one Map lookup.
  const series = new Map<string, Series>();
  return {
    registry,
    observe(route, method, status, seconds) {
      const key = `${method} ${status} ${route}`;
      let entry = series.get(key);
      if (entry === undefined) {
        const labels = { route, method, status: String(status) };
        entry = { requests: requests.labels(labels), duration: duration.labels(labels) };
        series.set(key, entry);
      }
      entry.requests.inc();
      entry.duration.observe(seconds);
    },
  };
}
