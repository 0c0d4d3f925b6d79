import { describe, expect, it } from 'vitest';
import { evaluatePromql } from './evaluate-promql.js';
import { ExpositionError, parseExposition } from './parse-exposition.js';
import { parsePromql } from './parse-promql.js';
import { podTargetLabels, recordScrape } from './scrape-labels.js';
import { type Labels, MemorySeriesStore } from './series-store.js';

const TEXT = [
  '# HELP http_requests_total Requests, with a "quote" and a \\\\ backslash.',
  '# TYPE http_requests_total counter',
  'http_requests_total{route="/",method="GET",status="200"} 1027',
  'http_requests_total{route="/a\\"b\\\\c\\nd",status="500",} 3 1700000000000',
  '# TYPE latency histogram',
  'latency_bucket{le="0.1"} 2',
  'latency_bucket{le="+Inf"} 5',
  'latency_sum 1.5e0',
  'latency_count 5',
  '# a comment',
  '',
  'temperature NaN',
  'cold -Inf',
  'untyped_thing{job="mine",instance="x"}\t+Inf',
  '{"my.metric", "my.label"="v"} 7',
].join('\n');

describe('the text exposition format', () => {
  it('reads types, escaped label values, trailing commas, timestamps, special values and quoted names', () => {
    const { samples, types } = parseExposition(TEXT);
    expect(types.get('http_requests_total')).toBe('counter');
    expect(types.get('latency')).toBe('histogram');
    expect(samples[1]).toEqual({
      labels: { __name__: 'http_requests_total', route: '/a"b\\c\nd', status: '500' },
      value: 3,
      timestampMs: 1700000000000,
    });
    expect(samples.map((s) => s.labels.__name__)).toEqual([
      'http_requests_total',
      'http_requests_total',
      'latency_bucket',
      'latency_bucket',
      'latency_sum',
      'latency_count',
      'temperature',
      'cold',
      'untyped_thing',
      'my.metric',
    ]);
    expect(samples[6]?.value).toBeNaN();
    expect(samples[7]?.value).toBe(-Infinity);
    expect(samples[9]?.labels).toEqual({ __name__: 'my.metric', 'my.label': 'v' });
  });

  it.each([
    ['x{a="b"', /expected , or \}/],
    ['x{a="b",a="c"} 1', /duplicate label a/],
    ['x one', /cannot read the value/],
    ['x 1 2 3', /unexpected text/],
    ['x{a="b} 1', /unterminated quoted string/],
    ['# TYPE x countr', /unknown metric type/],
    ['3x 1', /expected a metric name/],
  ])('fails the scrape on %j', (text, message) => {
    expect(() => parseExposition(text)).toThrow(ExpositionError);
    expect(() => parseExposition(text)).toThrow(message);
  });
});

describe('a pod scrape into the store', () => {
  const target = podTargetLabels({
    namespace: 'hello-prod',
    pod: 'hello-abc-1',
    address: '127.0.0.1:4000',
    podLabels: { 'app.kubernetes.io/name': 'hello', 'rollouts-pod-template-hash': 'abc' },
  });

  it('labels series as a Kubernetes pod scrape would, keeping clashing labels as exported_', () => {
    const store = new MemorySeriesStore();
    recordScrape(store, target, parseExposition(TEXT), 10_000, new Map());
    const value = evaluatePromql(parsePromql('untyped_thing'), store, 10_000);
    expect(value).toEqual({
      type: 'vector',
      samples: [
        {
          labels: {
            __name__: 'untyped_thing',
            exported_job: 'mine',
            exported_instance: 'x',
            app_kubernetes_io_name: 'hello',
            rollouts_pod_template_hash: 'abc',
            namespace: 'hello-prod',
            pod: 'hello-abc-1',
            instance: '127.0.0.1:4000',
            job: 'kubernetes-pods',
          },
          value: Infinity,
        },
      ],
    });
  });

  it('marks vanished series stale and records up, so a gone series leaves instant queries at once', () => {
    const store = new MemorySeriesStore();
    let seen: Map<string, Labels> = recordScrape(store, target, parseExposition('a 1\nb 2'), 1000, new Map());
    seen = recordScrape(store, target, parseExposition('a 2'), 2000, seen);
    const count = (query: string, at: number) => evaluatePromql(parsePromql(query), store, at);
    expect(count('count({__name__=~"a|b"})', 2500)).toMatchObject({ samples: [{ value: 1 }] });
    recordScrape(store, target, undefined, 3000, seen);
    expect(count('count({__name__=~"a|b"})', 3500)).toEqual({ type: 'vector', samples: [] });
    expect(count('up', 3500)).toMatchObject({ samples: [{ value: 0 }] });
  });
});
