import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { load } from 'js-yaml';
import { afterEach, describe, expect, it } from 'vitest';
import type { AnalysisRunStatus } from '../src/core/analysis/analysis-run-status.js';
import { planAnalysis, readTemplateSpec } from '../src/core/analysis/plan-analysis.js';
import { runAnalysis } from '../src/core/analysis/run-analysis.js';
import { MemorySeriesStore } from '../src/core/analysis/series-store.js';
import { createMeasure } from '../src/local/analysis/measure-metric.js';
import { MetricsScraper, podScrapeTarget } from '../src/local/analysis/metrics-scraper.js';

// A test release (a node:http server whose /metrics the test writes) analysed with a template
// using rate()[30s], histogram_quantile over summed bucket rates and a ratio of sums. The clock is
// fake and the scrapes happen on a fixed schedule (every 10 s from T0), so every figure below is
// worked out by hand (Prometheus v3.9.1 promql/functions.go extrapolatedRate, promql/quantile.go)
// and the run must end exactly where those figures say.
const T0 = Date.UTC(2026, 0, 1);
const BOUNDS = ['0.1', '0.25', '0.5', '1', '+Inf'];

interface Release {
  /** Per scrape i (t = 10 s × i): counters of 200 and 500 answers, bucket counts, orders. */
  ok: number[];
  errors: number[];
  buckets: number[][];
  orders: number[];
}

let server: Server | undefined;
afterEach(() => new Promise<void>((done) => (server === undefined ? done() : server.close(() => done()))));

function exposition(release: Release, i: number): string {
  const lines = [
    '# TYPE app_requests_total counter',
    `app_requests_total{code="200"} ${release.ok[i]}`,
    `app_requests_total{code="500"} ${release.errors[i]}`,
    '# TYPE app_latency_seconds histogram',
    ...BOUNDS.map((le, b) => `app_latency_seconds_bucket{le="${le}"} ${release.buckets[b]?.[i]}`),
    `app_latency_seconds_count ${release.buckets[4]?.[i]}`,
    '# TYPE orders_total counter',
    `orders_total ${release.orders[i]}`,
  ];
  return `${lines.join('\n')}\n`;
}

/** Cumulative counts from per-interval increments (the first element is the count at t = 0). */
const cumulative = (steps: number[]) => steps.map((_, i) => steps.slice(0, i + 1).reduce((a, b) => a + b, 0));

async function analyse(release: Release): Promise<AnalysisRunStatus> {
  let scrape = 0;
  server = createServer((_, response) => response.end(exposition(release, scrape)));
  await new Promise<void>((done) => server?.listen(0, '127.0.0.1', done));
  const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  let now = T0;
  const store = new MemorySeriesStore();
  const target = podScrapeTarget({
    namespace: 'prod',
    pod: 'web-1',
    address,
    podLabels: { 'rollouts-pod-template-hash': 'canary1' },
  });
  const scraper = new MetricsScraper(store, () => [target], { intervalMs: 10_000, now: () => now });
  await scraper.scrapeOnce(); // scrape 0 at T0
  const clock = {
    now: () => now,
    // Time moves only here: each scrape due on the way (every 10 s) happens at its own instant.
    async sleep(ms: number) {
      const until = now + ms;
      for (let next = T0 + (scrape + 1) * 10_000; next <= until; next = T0 + (scrape + 1) * 10_000) {
        now = next;
        scrape += 1;
        await scraper.scrapeOnce();
      }
      now = until;
    },
  };
  const spec = readTemplateSpec(
    load(readFileSync(new URL('fixtures/analysis/release-template.yaml', import.meta.url), 'utf8')),
    'template',
  );
  const metrics = planAnalysis([spec], [{ name: 'hash', value: 'canary1' }]);
  return runAnalysis(metrics, { clock, measure: createMeasure(store, () => now) });
}

function values(status: AnalysisRunStatus, name: string): { phase: string; value: number; at: number }[] {
  const result = status.metricResults.find((r) => r.name === name);
  return (result?.measurements ?? []).map((m) => ({
    phase: m.phase,
    value: Number(/^\[?([^\]]*)\]?$/.exec(m.value ?? '')?.[1]),
    at: Date.parse(m.startedAt) - T0,
  }));
}

// Measurements: initialDelay 35 s, so the first is due just after T0 + 35 s (Argo's "After" is
// strict: 35.001 s), the next ones just after finishedAt + 10 s: 45.002 s and 55.003 s. Each
// rate()[30s] window then holds exactly three scrapes: (5.001, 35.001] holds t = 10, 20, 30;
// (15.002, 45.002] holds 20, 30, 40; (25.003, 55.003] holds 30, 40, 50. In each window the first
// sample is 4.999 s after the start and the last 5.001 s before the end, under 110 % of the 10 s
// spacing, so both edges are extrapolated: factor (20 + 4.999 + 5.001) / 20 = 1.5, and
// rate = increase-between-samples × 1.5 / 30 s (no zero-point clamp applies: every first sample
// is at least half the increase, 20 s × that ratio >= 10 s > 4.999 s).
describe('a canary release analysed on a fixed scrape schedule', () => {
  it('fails exactly at the measurement where the error ratio crosses 5 % for the second time', async () => {
    const release: Release = {
      ok: cumulative([1000, 100, 100, 100, 100, 100]), // 1000, 1100, …, 1500
      errors: cumulative([10, 2, 2, 2, 30, 30]), // 10, 12, 14, 16, 46, 76
      buckets: [
        cumulative([80, 80, 80, 80, 20, 100]), // le=0.1
        cumulative([95, 95, 95, 95, 55, 100]), // le=0.25
        cumulative([100, 100, 100, 100, 80, 100]), // le=0.5
        cumulative([100, 100, 100, 100, 96, 100]), // le=1
        cumulative([100, 100, 100, 100, 100, 100]), // le=+Inf
      ],
      orders: [500, 520, 545, 570, 4, 34], // the process restarted between t = 30 and 40 s
    };
    const status = await analyse(release);

    // Error ratio = increase(500s) / (increase(500s) + increase(200s)); the 1.5 / 30 cancels.
    // #1: (16 - 12) / (4 + 200) = 4/204 = 0.0196… <= 0.05 Successful.
    // #2: (46 - 14) / (32 + 200) = 32/232 = 0.1379… Failed (1, within failureLimit 1).
    // #3: (76 - 16) / (60 + 200) = 60/260 = 0.2307… Failed (2 > 1): the run fails here.
    const errors = values(status, 'error-ratio');
    expect(errors.map((m) => m.phase)).toEqual(['Successful', 'Failed', 'Failed']);
    expect(errors.map((m) => m.at)).toEqual([35_001, 45_002, 55_003]);
    expect(errors.map((m) => m.value)).toEqual([4 / 204, 32 / 232, 60 / 260].map((v) => expect.closeTo(v, 12)));

    // p99 over the summed bucket rates (each bucket's increase × the same 1.5 / 30, which the
    // interpolation does not see). #1 increases 0.1:160 0.25:190 0.5:200 1:200 Inf:200, rank
    // 0.99 × 200 = 198 falls in (0.25, 0.5]: 0.25 + 0.25 × (198 - 190) / (200 - 190) = 0.45 < 0.5.
    // #2 (0.1:100 0.25:150 0.5:180 1:196 Inf:200) and #3 (120, 155, 180, 196, 200): rank 198 is
    // past le=1's 196, in +Inf, so the quantile is the second highest bound, 1: Failed twice,
    // within failureLimit 2.
    const latency = values(status, 'p99-latency');
    expect(latency.map((m) => m.phase)).toEqual(['Successful', 'Failed', 'Failed']);
    expect(latency.map((m) => m.value)).toEqual([0.45, 1, 1].map((v) => expect.closeTo(v, 12)));

    // increase(orders_total[30s]) with the counter reset added back: #1 (570 - 520) × 1.5 = 75;
    // #2 545, 570, 4: 4 - 545 + 570 = 29, × 1.5 = 43.5 < 45 Failed; #3 570, 4, 34: 34 - 570 + 570
    // = 34, × 1.5 = 51. One failure, within failureLimit 1.
    const orders = values(status, 'orders');
    expect(orders.map((m) => m.phase)).toEqual(['Successful', 'Failed', 'Successful']);
    expect(orders.map((m) => m.value)).toEqual([75, 43.5, 51].map((v) => expect.closeTo(v, 9)));

    expect(status.phase).toBe('Failed');
    expect(status.message).toBe('Metric "error-ratio" assessed Failed due to failed (2) > failureLimit (1)');
    expect(status.metricResults.map((r) => [r.name, r.phase])).toEqual([
      ['error-ratio', 'Failed'],
      ['p99-latency', 'Successful'],
      ['orders', 'Successful'],
    ]);
  });

  it('passes a release whose figures stay inside every condition', async () => {
    const release: Release = {
      ok: cumulative([1000, 100, 100, 100, 100, 100]),
      // 2 errors per 10 s: 4 / 204 = 0.0196 in every window.
      errors: cumulative([10, 2, 2, 2, 2, 2]),
      // Every window: 160, 190, 200, 200, 200 → p99 0.45.
      buckets: [80, 95, 100, 100, 100].map((step) => cumulative([step, step, step, step, step, step])),
      // 25 orders per 10 s: 50 × 1.5 = 75 in every window.
      orders: cumulative([500, 25, 25, 25, 25, 25]),
    };
    const status = await analyse(release);
    expect(status.phase).toBe('Successful');
    expect(values(status, 'error-ratio').map((m) => m.value)).toEqual(
      [4 / 204, 4 / 204, 4 / 204].map((v) => expect.closeTo(v, 12)),
    );
    expect(values(status, 'p99-latency').map((m) => m.value)).toEqual(
      [0.45, 0.45, 0.45].map((v) => expect.closeTo(v, 12)),
    );
    expect(values(status, 'orders').map((m) => m.value)).toEqual([75, 75, 75].map((v) => expect.closeTo(v, 9)));
    expect(status.runSummary).toEqual({ count: 3, successful: 3, failed: 0, inconclusive: 0, error: 0 });
  });
});
