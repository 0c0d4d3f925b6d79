import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunMetric } from '../../src/core/analysis/analysis-template.js';
import { evaluatePromql } from '../../src/core/analysis/evaluate-promql.js';
import { InvalidSpecError } from '../../src/core/analysis/invalid-spec.js';
import { parsePromql } from '../../src/core/analysis/parse-promql.js';
import { planAnalysis } from '../../src/core/analysis/plan-analysis.js';
import { MemorySeriesStore } from '../../src/core/analysis/series-store.js';
import { ExpressionSyntaxError, evaluateCondition } from '../../src/core/rollout/analysis-expression.js';
import { createMeasure } from '../../src/local/analysis/measure-metric.js';
import { MetricsScraper, urlScrapeTarget } from '../../src/local/analysis/metrics-scraper.js';

// Probes of the analysis machinery from a careless template author and a hostile service.
let server: Server | undefined;
afterEach(() => new Promise<void>((done) => (server === undefined ? done() : server.close(() => done()))));

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  server = createServer(handler);
  await new Promise<void>((done) => server?.listen(0, '127.0.0.1', done));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function scrapeOnce(url: string, timeoutMs = 2000): Promise<MemorySeriesStore> {
  const store = new MemorySeriesStore({ retentionMs: 60_000, maxSamplesPerSeries: 10, maxSeries: 1000 });
  await new MetricsScraper(store, () => [urlScrapeTarget(url)], {
    intervalMs: 1000,
    timeoutMs,
    now: () => 1000,
  }).scrapeOnce();
  return store;
}

const up = (store: MemorySeriesStore) => evaluatePromql(parsePromql('up'), store, 1000);

describe('hostile queries and conditions', () => {
  it('refuses a label regex that would backtrack exponentially in JavaScript (RE2 would not)', () => {
    expect(() => parsePromql('x{path=~"(a+)+b"}')).toThrow(/PromQL 1:9: .*backtrack exponentially/);
    expect(() => parsePromql('x{path=~"(.*,)*x"}')).toThrow(InvalidSpecError);
  });

  it('refuses a query or condition nested 20,000 deep instead of overflowing the stack', () => {
    expect(() => parsePromql(`${'('.repeat(20_000)}1${')'.repeat(20_000)}`)).toThrow(InvalidSpecError);
    expect(() => evaluateCondition(`${'('.repeat(20_000)}true${')'.repeat(20_000)}`, [])).toThrow(
      ExpressionSyntaxError,
    );
  });

  it('keeps an argument inside the string it is substituted into', () => {
    const web = { url: 'http://127.0.0.1:9/x', headers: [{ key: 'X-Hash', value: '{{args.hash}}' }] };
    const spec = {
      args: [{ name: 'hash' }],
      metrics: [{ name: 'm', successCondition: 'result == 1', provider: { web } }],
    };
    // The value is JSON-escaped before substitution (ResolveQuotedArgs): it cannot add fields.
    const value = '"}], "failureCondition": "true';
    const [metric] = planAnalysis([spec], [{ name: 'hash', value }]) as [RunMetric];
    expect(metric.failureCondition).toBeUndefined();
    expect(metric.provider.kind === 'web' && metric.provider.web.headers).toEqual([{ key: 'X-Hash', value }]);
    // In a query, a value that closes the string is a syntax error, never a different query.
    const query = { name: 'q', provider: { prometheus: { query: 'x{h="{{args.hash}}"}' } } };
    expect(() =>
      planAnalysis([{ args: [{ name: 'hash' }], metrics: [query] }], [{ name: 'hash', value: 'a"} or vector(1) #' }]),
    ).toThrow(InvalidSpecError);
  });
});

describe('hostile /metrics pages', () => {
  it('fails a scrape larger than 16 MiB (up 0) without storing any of it', async () => {
    const line = `big_series{pad="${'x'.repeat(1000)}"} 1\n`;
    const url = await serve((_, response) => {
      for (let i = 0; i < 17_500; i += 1) response.write(line);
      response.end();
    });
    const store = await scrapeOnce(`${url}/metrics`);
    expect(up(store)).toMatchObject({ samples: [{ value: 0 }] });
    expect(store.seriesCount).toBe(1);
  });

  it('bounds the series a flood of labels can create', async () => {
    const url = await serve((_, response) => {
      response.end(Array.from({ length: 5000 }, (_, i) => `flood{i="${i}"} 1`).join('\n'));
    });
    const store = await scrapeOnce(`${url}/metrics`);
    expect(store.seriesCount).toBe(1000);
    expect(store.rejected).toBeGreaterThan(0);
  });

  it('gives up on a target that never answers at the scrape timeout', async () => {
    const url = await serve(() => {});
    const store = await scrapeOnce(`${url}/metrics`, 200);
    expect(up(store)).toMatchObject({ samples: [{ value: 0 }] });
  });

  it('records a web metric whose answer is too large as an Error measurement', async () => {
    const url = await serve((_, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(`{"pad":"${'x'.repeat(17 * 1024 * 1024)}"}`);
    });
    const [metric] = planAnalysis(
      [{ metrics: [{ name: 'w', successCondition: 'true', provider: { web: { url, jsonPath: '{$.pad}' } } }] }],
      [],
    ) as [RunMetric];
    const measurement = await createMeasure(new MemorySeriesStore(), () => 2000)(metric, 1000);
    expect(measurement).toMatchObject({ phase: 'Error', message: expect.stringMatching(/larger than 16777216 bytes/) });
  });
});
