import { describe, expect, it } from 'vitest';
import type { AnalysisRunStatus, Measurement } from './analysis-run-status.js';
import type { RunMetric } from './analysis-template.js';
import { evaluateResult, prometheusMeasurement } from './evaluate-result.js';
import { parsePromql } from './parse-promql.js';
import { planAnalysis } from './plan-analysis.js';
import { runAnalysis } from './run-analysis.js';

// Argo Rollouts v1.9.1's measurement semantics on a fixed fake clock. Line numbers cite
// analysis/analysis.go (A), utils/evaluate/evaluate.go (E) and utils/defaults/defaults.go (D).
const T0 = Date.UTC(2026, 0, 1);

function metric(overrides: Partial<RunMetric>): RunMetric {
  return {
    name: 'm',
    intervalMs: undefined,
    initialDelayMs: undefined,
    count: 1,
    failureLimit: 0,
    inconclusiveLimit: 0,
    consecutiveErrorLimit: 4,
    consecutiveSuccessLimit: 0,
    successCondition: 'result[0] < 0.5',
    failureCondition: undefined,
    dryRun: false,
    historyLimit: 10,
    provider: { kind: 'prometheus', query: parsePromql('vector(1)'), text: 'vector(1)' },
    ...overrides,
  };
}

/** Runs the metrics; each measurement of a metric takes the next scripted result ('error' fails it). */
async function run(metrics: RunMetric[], script: Record<string, (number[] | 'error')[]>) {
  let now = T0;
  const times: Record<string, number[]> = {};
  const clock = {
    now: () => now,
    sleep: async (ms: number) => {
      now += ms;
    },
  };
  const measure = async (m: RunMetric, at: number): Promise<Measurement> => {
    times[m.name] = [...(times[m.name] ?? []), at - T0];
    const next = script[m.name]?.shift();
    if (next === undefined) throw new Error(`no scripted result left for ${m.name}`);
    if (next === 'error')
      return {
        phase: 'Error',
        message: 'boom',
        startedAt: new Date(at).toISOString(),
        finishedAt: new Date(at).toISOString(),
      };
    return prometheusMeasurement({ type: 'vector', samples: next.map((value) => ({ labels: {}, value })) }, m, at, at);
  };
  const status: AnalysisRunStatus = await runAnalysis(metrics, { clock, measure });
  return {
    status,
    times,
    phases: (name: string) => status.metricResults.find((r) => r.name === name)?.measurements.map((x) => x.phase),
  };
}

describe('EvaluateResult (E lines 18-58)', () => {
  it('a false successCondition without a failureCondition is Failed (E lines 40-42), not Inconclusive', () => {
    expect(evaluateResult([0.7], { successCondition: 'result[0] < 0.5', failureCondition: undefined })).toBe('Failed');
    expect(evaluateResult([0.3], { successCondition: 'result[0] < 0.5', failureCondition: undefined })).toBe(
      'Successful',
    );
  });
  it('only a failureCondition: false is Successful (E lines 43-45); both false is Inconclusive (E lines 52-54)', () => {
    expect(evaluateResult([0.3], { successCondition: undefined, failureCondition: 'result[0] > 0.5' })).toBe(
      'Successful',
    );
    expect(evaluateResult([0.5], { successCondition: 'result[0] < 0.5', failureCondition: 'result[0] > 0.5' })).toBe(
      'Inconclusive',
    );
    expect(evaluateResult([9], { successCondition: undefined, failureCondition: undefined })).toBe('Successful');
  });
});

describe('runAnalysis', () => {
  it("fails the run on a success-only metric measuring false, with Argo's message (A lines 667-669, 504)", async () => {
    const { status } = await run([metric({})], { m: [[0.7]] });
    expect(status.phase).toBe('Failed');
    expect(status.message).toBe('Metric "m" assessed Failed due to failed (1) > failureLimit (0)');
    expect(status.metricResults[0]).toMatchObject({ phase: 'Failed', count: 1, failed: 1 });
    expect(status.metricResults[0]?.measurements[0]).toMatchObject({ phase: 'Failed', value: '[0.7]' });
  });

  it('tolerates failures up to failureLimit, failing on the one past it (A line 667)', async () => {
    const m = metric({ count: 3, intervalMs: 1000, failureLimit: 1 });
    const passing = await run([m], { m: [[0.9], [0.1], [0.1]] });
    expect(passing.status.phase).toBe('Successful');
    const failing = await run([m], { m: [[0.9], [0.1], [0.9]] });
    expect(failing.status.phase).toBe('Failed');
    expect(failing.status.message).toBe('Metric "m" assessed Failed due to failed (2) > failureLimit (1)');
  });

  it('ends Inconclusive past inconclusiveLimit (A lines 676-679)', async () => {
    const m = metric({ count: 3, intervalMs: 1000, inconclusiveLimit: 1, failureCondition: 'result[0] > 0.8' });
    const { status, phases } = await run([m], { m: [[0.6], [0.6]] });
    expect(phases('m')).toEqual(['Inconclusive', 'Inconclusive']);
    expect(status.phase).toBe('Inconclusive');
    expect(status.message).toBe('Metric "m" assessed Inconclusive due to inconclusive (2) > inconclusiveLimit (1)');
  });

  it('errors after more than consecutiveErrorLimit (default 4, D line 37) errors in a row, retried every 10 s (A line 233-235)', async () => {
    // The limit comes from the template reader's default: the template does not set it.
    const [fromTemplate] = planAnalysis(
      [
        {
          metrics: [
            {
              name: 'm',
              count: 2,
              interval: '1s',
              successCondition: 'result[0] < 0.5',
              provider: { prometheus: { query: 'vector(1)' } },
            },
          ],
        },
      ],
      [],
    );
    expect(fromTemplate?.consecutiveErrorLimit).toBe(4);
    const { status, times } = await run([fromTemplate ?? metric({})], {
      m: ['error', 'error', 'error', 'error', 'error'],
    });
    expect(status.phase).toBe('Error');
    expect(status.message).toBe(
      'Metric "m" assessed Error due to consecutiveErrors (5) > consecutiveErrorLimit (4): "Error Message: boom"',
    );
    // Errors do not count towards count; each retry comes just after finishedAt + 10 s.
    expect(times.m).toEqual([0, 10_001, 20_002, 30_003, 40_004]);
    expect(status.metricResults[0]).toMatchObject({ count: 0, error: 5, consecutiveError: 5 });
  });

  it('a success resets the consecutive errors (A line 389)', async () => {
    const m = metric({ count: 3, intervalMs: 1000, consecutiveErrorLimit: 1 });
    const { status } = await run([m], { m: ['error', [0.1], 'error', [0.1], [0.1]] });
    expect(status.phase).toBe('Successful');
    expect(status.metricResults[0]).toMatchObject({ count: 3, error: 2, consecutiveError: 0 });
  });

  it('does not let a dry-run metric decide the run (A lines 500, 524-549)', async () => {
    const real = metric({ name: 'real' });
    const dry = metric({ name: 'dry', dryRun: true });
    const { status } = await run([real, dry], { real: [[0.1]], dry: [[0.9]] });
    expect(status.phase).toBe('Successful');
    expect(status.metricResults.find((r) => r.name === 'dry')).toMatchObject({
      phase: 'Failed',
      dryRun: true,
      message: 'Metric assessed Failed due to failed (1) > failureLimit (0)',
    });
    expect(status.dryRunSummary).toEqual({ count: 1, successful: 0, failed: 1, inconclusive: 0, error: 0 });
    expect(status.runSummary).toEqual({ count: 1, successful: 1, failed: 0, inconclusive: 0, error: 0 });
  });

  it('waits initialDelay from the run start, then measures count times, interval apart (A lines 204-246)', async () => {
    const m = metric({ count: 3, intervalMs: 10_000, initialDelayMs: 5000 });
    const { status, times } = await run([m], { m: [[0.1], [0.1], [0.1]] });
    // Start at 0 (no measurement: no startedAt yet); due once now is after 5 s, then after each
    // finishedAt + 10 s ("After" is strict, so each wake-up is 1 ms past the due time).
    expect(times.m).toEqual([5001, 15_002, 25_003]);
    expect(status).toMatchObject({ phase: 'Successful', startedAt: new Date(T0).toISOString() });
    expect(status.completedAt).toBe(new Date(T0 + 25_003).toISOString());
  });

  it('keeps the last 10 measurements in the status, counting all of them (A lines 761-805)', async () => {
    const m = metric({ count: 12, intervalMs: 1000 });
    const { status } = await run([m], { m: Array.from({ length: 12 }, () => [0.1]) });
    expect(status.metricResults[0]).toMatchObject({ phase: 'Successful', count: 12, successful: 12 });
    expect(status.metricResults[0]?.measurements).toHaveLength(10);
    const spec = {
      metrics: [{ name: 'm', provider: { prometheus: { query: 'vector(1)' } } }],
      measurementRetention: [{ metricName: '^m$', limit: 3 }],
    };
    expect(planAnalysis([spec], [])[0]?.historyLimit).toBe(3);
    const kept = await run([{ ...m, historyLimit: 3 }], { m: Array.from({ length: 12 }, () => [0.1]) });
    expect(kept.status.metricResults[0]?.measurements).toHaveLength(3);
  });

  it('stops the other metrics once one fails (IsTerminating, helpers.go lines 84-101)', async () => {
    const failing = metric({ name: 'a' });
    const endless = metric({ name: 'b', count: undefined, intervalMs: 1000 });
    const { status, times } = await run([failing, endless], { a: [[0.9]], b: [[0.1]] });
    expect(status.phase).toBe('Failed');
    expect(times.b).toEqual([0]);
    expect(status.metricResults.find((r) => r.name === 'b')?.phase).toBe('Successful');
  });
});
