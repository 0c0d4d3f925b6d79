import { describe, expect, it } from 'vitest';
import { evaluateCondition } from './analysis-expression.js';
import { canarySplit, pauseSeconds, podTemplateHash } from './canary-math.js';

describe('evaluateCondition', () => {
  const success = 'len(result) == 0 || isNaN(result[0]) || result[0] <= 0.01';
  const failure = 'len(result) > 0 && result[0] > 0.05';
  it.each([
    [[], true, false],
    [[Number.NaN], true, false],
    [[0.005], true, false],
    [[0.03], false, false],
    [[0.5], false, true],
  ])('result %j: success %s, failure %s', (result, ok, bad) => {
    expect(evaluateCondition(success, result)).toBe(ok);
    expect(evaluateCondition(failure, result)).toBe(bad);
  });

  it('handles parentheses, negation and booleans, and rejects what it cannot read', () => {
    expect(evaluateCondition('!(result[0] > 1) && true', [0.5])).toBe(true);
    expect(() => evaluateCondition('result[0] >= 0.9 ??', [1])).toThrow(/cannot read/);
    expect(() => evaluateCondition('sum(result) > 1', [1])).toThrow(/unsupported/);
  });
});

describe('canary math', () => {
  it('splits pods by weight, keeping one of each for 1-99 % with two or more replicas', () => {
    expect(canarySplit(5, 20)).toEqual({ canary: 1, stable: 4 });
    expect(canarySplit(5, 50)).toEqual({ canary: 3, stable: 2 });
    expect(canarySplit(2, 1)).toEqual({ canary: 1, stable: 1 });
    expect(canarySplit(2, 99)).toEqual({ canary: 1, stable: 1 });
    expect(canarySplit(1, 50)).toEqual({ canary: 1, stable: 0 });
    expect(canarySplit(5, 100)).toEqual({ canary: 5, stable: 0 });
  });

  it('hashes templates independently of key order', () => {
    expect(podTemplateHash({ a: 1, b: [1, { c: 2, d: 3 }] })).toBe(podTemplateHash({ b: [1, { d: 3, c: 2 }], a: 1 }));
    expect(podTemplateHash({ a: 1 })).not.toBe(podTemplateHash({ a: 2 }));
  });

  it('reads pause durations', () => {
    expect([
      pauseSeconds('30s'),
      pauseSeconds('2m'),
      pauseSeconds(5),
      pauseSeconds('x'),
      pauseSeconds(undefined),
    ]).toEqual([30, 120, 5, undefined, undefined]);
  });
});
