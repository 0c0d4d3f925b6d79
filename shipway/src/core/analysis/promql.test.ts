import { describe, expect, it } from 'vitest';
import { evaluatePromql } from './evaluate-promql.js';
import { InvalidSpecError } from './invalid-spec.js';
import { parsePromql } from './parse-promql.js';
import type { QueryValue } from './promql-value.js';
import { type Labels, MemorySeriesStore } from './series-store.js';

// Every expected figure below is worked out by hand from Prometheus' v3.9.1 source
// (promql/functions.go extrapolatedRate and instantValue, promql/quantile.go BucketQuantile,
// promql/engine.go VectorBinop), not by running this code.
const S = 1000;

function storeWith(series: [Labels, [number, number][]][]): MemorySeriesStore {
  const store = new MemorySeriesStore();
  for (const [labels, points] of series) for (const [t, v] of points) store.append(labels, t * S, v);
  return store;
}

function query(store: MemorySeriesStore, text: string, nowSeconds: number): QueryValue {
  return evaluatePromql(parsePromql(text), store, nowSeconds * S);
}

function values(result: QueryValue): Record<string, number> {
  if (result.type !== 'vector') throw new Error(`expected a vector, got ${result.type}`);
  const sorted = (labels: Labels) => Object.fromEntries(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
  return Object.fromEntries(result.samples.map((s) => [JSON.stringify(sorted(s.labels)), s.value]));
}

describe('rate and increase: extrapolatedRate', () => {
  it('extrapolates to both edges when the samples come within 110 % of the average spacing', () => {
    // Range (30 s, 60 s]; samples at 35, 45, 55 s: 10, 20, 40. Increase in samples 30.
    // To start 5 s, to end 5 s; average spacing 10 s, threshold 11 s: both edges extrapolated.
    // Zero point: 20 s * 10/30 = 6.67 s > 5 s, no clamp. Factor (20 + 5 + 5) / 20 = 1.5.
    // increase = 30 * 1.5 = 45; rate = 45 / 30 s = 1.5.
    const store = storeWith([
      [
        { __name__: 'c', pod: 'a' },
        [
          [35, 10],
          [45, 20],
          [55, 40],
        ],
      ],
    ]);
    expect(values(query(store, 'increase(c[30s])', 60))).toEqual({ '{"pod":"a"}': 45 });
    expect(values(query(store, 'rate(c[30s])', 60))).toEqual({ '{"pod":"a"}': 1.5 });
  });

  it('adds a counter reset back: 10, 20, 5 increases by 15', () => {
    // 5 - 10 = -5, plus the 20 before the reset = 15; same edges as above: factor 1.5.
    // increase = 22.5; rate = 22.5 / 30 = 0.75.
    const store = storeWith([
      [
        { __name__: 'c' },
        [
          [35, 10],
          [45, 20],
          [55, 5],
        ],
      ],
    ]);
    expect(values(query(store, 'increase(c[30s])', 60))).toEqual({ '{}': 22.5 });
    expect(values(query(store, 'rate(c[30s])', 60))).toEqual({ '{}': 0.75 });
  });

  it('never extrapolates back past the counter zero point', () => {
    // 1, 11, 21 at 35, 45, 55: increase 20; zero point 20 s * 1/20 = 1 s < 5 s to start, so 1 s.
    // Factor (20 + 1 + 5) / 20 = 1.3: increase 26.
    const store = storeWith([
      [
        { __name__: 'c' },
        [
          [35, 1],
          [45, 11],
          [55, 21],
        ],
      ],
    ]);
    expect(values(query(store, 'increase(c[30s])', 60))['{}']).toBeCloseTo(26, 12);
  });

  it('extrapolates only half a spacing towards an edge the samples do not come near', () => {
    // 40, 50 at 50, 55 s in (30, 60]: spacing 5 s, threshold 5.5 s. To start 20 s >= 5.5: only
    // 2.5 s (zero point 5 s * 40/10 = 20 s is further). To end 5 s < 5.5: kept.
    // (5 + 2.5 + 5) / 5 = 2.5: increase 25.
    const late = storeWith([
      [
        { __name__: 'c' },
        [
          [50, 40],
          [55, 50],
        ],
      ],
    ]);
    expect(values(query(late, 'increase(c[30s])', 60))['{}']).toBeCloseTo(25, 12);
    // 100, 110 at 35, 40 s: to start 5 s kept; to end 20 s >= 5.5: 2.5 s. (5 + 5 + 2.5) / 5 = 2.5.
    const early = storeWith([
      [
        { __name__: 'c' },
        [
          [35, 100],
          [40, 110],
        ],
      ],
    ]);
    expect(values(query(early, 'increase(c[30s])', 60))['{}']).toBeCloseTo(25, 12);
  });

  it('clamps at the zero point when that is nearer than half a spacing', () => {
    // 4, 14 at 50, 55 s: to start 20 s >= 5.5 s gives 2.5 s, but the zero point is
    // 5 s * 4/10 = 2 s back: 2 s. (5 + 2 + 5) / 5 = 2.4: increase 24.
    const store = storeWith([
      [
        { __name__: 'c' },
        [
          [50, 4],
          [55, 14],
        ],
      ],
    ]);
    expect(values(query(store, 'increase(c[30s])', 60))['{}']).toBeCloseTo(24, 12);
  });

  it('needs two samples in the left-open range (now - range, now]', () => {
    // The sample at exactly 30 s is outside (30, 60]; one sample left: no result.
    const store = storeWith([
      [
        { __name__: 'c' },
        [
          [30, 1],
          [45, 5],
        ],
      ],
    ]);
    expect(values(query(store, 'rate(c[30s])', 60))).toEqual({});
  });

  it('irate uses the last two samples, a reset counting from zero', () => {
    const store = storeWith([
      [
        { __name__: 'c', pod: 'a' },
        [
          [35, 0],
          [45, 20],
          [55, 40],
        ],
      ],
      [
        { __name__: 'c', pod: 'b' },
        [
          [45, 20],
          [55, 5],
        ],
      ],
    ]);
    // a: (40 - 20) / 10 s = 2; b: reset, 5 / 10 s = 0.5.
    expect(values(query(store, 'irate(c[1m])', 60))).toEqual({ '{"pod":"a"}': 2, '{"pod":"b"}': 0.5 });
  });
});

describe('histogram_quantile over classic buckets', () => {
  const buckets: [string, number][] = [
    ['0.1', 50],
    ['0.5', 90],
    ['1', 99],
    ['+Inf', 100],
  ];
  const store = storeWith(buckets.map(([le, count]) => [{ __name__: 'h_bucket', le, job: 'x' }, [[10, count]]]));
  it.each([
    // rank 50 in the first bucket: 0 + 0.1 * 50/50.
    [0.5, 0.1],
    // rank 70: bucket (0.1, 0.5] holds 40, 20 of them below: 0.1 + 0.4 * 20/40 = 0.3.
    [0.7, 0.3],
    // rank 99: bucket (0.5, 1] holds 9, all 9 below: 1.
    [0.99, 1],
    // rank 99.5 falls in +Inf: the second highest bound, 1.
    [0.995, 1],
  ])('q=%s is %s', (q, expected) => {
    expect(values(query(store, `histogram_quantile(${q}, h_bucket)`, 20))['{"job":"x"}']).toBeCloseTo(expected, 12);
  });

  it('is NaN without observations and -Inf/+Inf outside [0, 1]', () => {
    const empty = storeWith([
      [{ __name__: 'h_bucket', le: '1' }, [[10, 0]]],
      [{ __name__: 'h_bucket', le: '+Inf' }, [[10, 0]]],
    ]);
    expect(values(query(empty, 'histogram_quantile(0.9, h_bucket)', 20))['{}']).toBeNaN();
    expect(values(query(store, 'histogram_quantile(2, h_bucket)', 20))['{"job":"x"}']).toBe(Infinity);
  });
});

describe('aggregation and vector matching', () => {
  const store = storeWith([
    [{ __name__: 'req', pod: 'a', status: '200', team: 't1' }, [[10, 90]]],
    [{ __name__: 'req', pod: 'a', status: '500', team: 't1' }, [[10, 10]]],
    [{ __name__: 'req', pod: 'b', status: '200', team: 't2' }, [[10, 60]]],
    [{ __name__: 'req', pod: 'b', status: '503', team: 't2' }, [[10, 40]]],
    [{ __name__: 'owner', pod: 'a', owner: 'ann' }, [[10, 1]]],
    [{ __name__: 'owner', pod: 'b', owner: 'bob' }, [[10, 1]]],
  ]);

  it('sums by and without, counts, averages, and takes min and max', () => {
    expect(values(query(store, 'sum by (pod) (req)', 20))).toEqual({ '{"pod":"a"}': 100, '{"pod":"b"}': 100 });
    expect(values(query(store, 'sum without (status, team) (req)', 20))).toEqual({
      '{"pod":"a"}': 100,
      '{"pod":"b"}': 100,
    });
    expect(values(query(store, 'count(req{status=~"5.."})', 20))).toEqual({ '{}': 2 });
    expect(values(query(store, 'avg(req)', 20))).toEqual({ '{}': 50 });
    expect(values(query(store, 'max by (team) (req) - min by (team) (req)', 20))).toEqual({
      '{"team":"t1"}': 80,
      '{"team":"t2"}': 20,
    });
  });

  it('divides with on() and copies labels from the one side with group_left', () => {
    // a: 10 errors / 100; b: 40 / 100.
    const ratio = 'sum by (pod) (req{status=~"5.."}) / on (pod) sum by (pod) (req)';
    expect(values(query(store, ratio, 20))).toEqual({ '{"pod":"a"}': 0.1, '{"pod":"b"}': 0.4 });
    const owned = 'req{status="200"} * on (pod) group_left (owner) owner';
    expect(values(query(store, owned, 20))).toEqual({
      '{"owner":"ann","pod":"a","status":"200","team":"t1"}': 90,
      '{"owner":"bob","pod":"b","status":"200","team":"t2"}': 60,
    });
  });

  it('filters with a comparison, or answers 0/1 with bool; ignoring drops labels from the match', () => {
    expect(values(query(store, 'req > 50', 20))).toEqual({
      '{"__name__":"req","pod":"a","status":"200","team":"t1"}': 90,
      '{"__name__":"req","pod":"b","status":"200","team":"t2"}': 60,
    });
    expect(values(query(store, 'sum by (pod) (req{status!="200"}) > bool 20', 20))).toEqual({
      '{"pod":"a"}': 0,
      '{"pod":"b"}': 1,
    });
    // ignoring(status, team) leaves {pod}: two series per pod on the right is many-to-many.
    expect(() => query(store, 'req / ignoring (status, team) req', 20)).toThrow(/many-to-many matching not allowed/);
    // One per pod on the right, two on the left: many-to-one needs group_left.
    const manyToOne = 'req / ignoring (status) sum without (status) (req)';
    expect(() => query(store, manyToOne, 20)).toThrow(/many-to-one matching must be explicit/);
    expect(values(query(store, manyToOne.replace('ignoring (status)', 'ignoring (status) group_left'), 20))).toEqual({
      '{"pod":"a","status":"200","team":"t1"}': 0.9,
      '{"pod":"a","status":"500","team":"t1"}': 0.1,
      '{"pod":"b","status":"200","team":"t2"}': 0.6,
      '{"pod":"b","status":"503","team":"t2"}': 0.4,
    });
  });

  it('fully anchors RE2 regexes and matches absent labels as empty', () => {
    expect(values(query(store, 'count(req{status=~"5"})', 20))).toEqual({});
    expect(values(query(store, 'count(req{status!~"2..|50."})', 20))).toEqual({});
    expect(values(query(store, 'count(req{missing=""})', 20))).toEqual({ '{}': 4 });
  });

  it('evaluates scalars, vector(), scalar(), clamp_min/clamp_max and absent()', () => {
    expect(query(store, '2 ^ 3 % 5', 20)).toEqual({ type: 'scalar', value: 3 });
    expect(query(store, 'scalar(sum(req)) / 4', 20)).toEqual({ type: 'scalar', value: 50 });
    expect(values(query(store, 'vector(1) + 1', 20))).toEqual({ '{}': 2 });
    expect(values(query(store, 'clamp_max(sum by (pod) (req{status!="200"}), 25)', 20))).toEqual({
      '{"pod":"a"}': 10,
      '{"pod":"b"}': 25,
    });
    expect(values(query(store, 'clamp_min(-sum(req), 0)', 20))).toEqual({ '{}': 0 });
    expect(values(query(store, 'absent(req{job="x",pod=~"z"})', 20))).toEqual({ '{"job":"x"}': 1 });
    expect(values(query(store, 'absent(req)', 20))).toEqual({});
  });

  it('forgets a series after the 5 m lookback and at a staleness marker', () => {
    const stale = storeWith([[{ __name__: 'g' }, [[10, 1]]]]);
    // The lookback window is left-open, (now - 5 m, now]: a sample at 10 s is seen at 309 s, not at 310 s.
    expect(values(query(stale, 'g', 309))).toEqual({ '{"__name__":"g"}': 1 });
    expect(values(query(stale, 'g', 310))).toEqual({});
    stale.append({ __name__: 'g' }, 20 * S, 0, true);
    expect(values(query(stale, 'g', 30))).toEqual({});
  });
});

describe('what is outside the subset is InvalidSpec, with its position', () => {
  it.each([
    ['predict_linear(x[5m], 60)', /PromQL 1:1: the function predict_linear\(\) is not supported/],
    ['sum(rate(x[5m:1m]))', /PromQL 1:10: a subquery is not supported/],
    ['sum(x)\n  / sum(y offset 5m)', /PromQL 2:9: the offset modifier is not supported/],
    ['topk(3, x)', /PromQL 1:1: the aggregation topk is not supported/],
    ['x and y', /PromQL 1:3: the operator and is not supported/],
    ['rate(x)', /PromQL 1:6: rate\(\) argument 1 expects a matrix, got a vector/],
    ['1 > 2', /comparisons between scalars must use the bool modifier/],
    ['x{a=~"(?=b)"}', /PromQL 1:6: the regex "\(\?=b\)" cannot be used: lookaround/],
    ['{a=~".*"}', /at least one non-empty matcher/],
    ['sum(x', /PromQL 1:6: syntax error at the end of the query/],
  ])('%s', (text, message) => {
    expect(() => parsePromql(text)).toThrow(InvalidSpecError);
    expect(() => parsePromql(text)).toThrow(message);
  });
});
