import { describe, expect, it } from 'vitest';
import { ExpressionError, ExpressionSyntaxError, evaluateCondition } from './analysis-expression.js';
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
    expect(() => evaluateCondition('result[0] >= 0.9 @', [1])).toThrow(ExpressionSyntaxError);
    expect(() => evaluateCondition('result[0] >= 0.9 @', [1])).toThrow(/cannot read "@" at column 18/);
    expect(() => evaluateCondition('sum(result) > 1', [1])).toThrow(/unknown function sum\(\) at column 1/);
    expect(() => evaluateCondition('foo > 1', [1])).toThrow(/unknown name foo/);
  });
});

// expr v1.15.5 semantics, as Argo Rollouts v1.9.1 evaluates conditions (utils/evaluate/evaluate.go).
describe('evaluateCondition: the expr subset real templates use', () => {
  it.each([
    // A Prometheus scalar reaches the condition as a float, a vector as a list (prometheus.go processResponse).
    ['result < 0.5', 0.3, true],
    ['result[0] * 100 >= 95', [0.96], true],
    ['all(result, {# < 0.5})', [0.1, 0.4], true],
    ['all(result, {# < 0.5})', [0.1, 0.6], false],
    ['all(result, {# < 0.5})', [], true],
    ['any(result, # > 0.9)', [0.1, 0.95], true],
    ['len(filter(result, {# > 0.1})) == 1', [0.05, 0.2], true],
    ['not (result[0] > 1) and isNaN(result[1])', [0.5, Number.NaN], true],
    ['result[0] > 0.1 or isInf(result[0])', [Number.POSITIVE_INFINITY], true],
    ['result[-1] == 3', [1, 2, 3], true],
    // A web metric's JSON value: members, optional chaining, nil.
    ['result.data.ok == true && result.data.count >= 2', { data: { ok: true, count: 2 } }, true],
    ['result?.missing?.x == nil', { data: {} }, true],
    ['result.status in ["ok", "green"]', { status: 'green' }, true],
    // Precedence and associativity from expr's operator table.
    ['2 ** 3 ** 2 == 512', [], true],
    ['-2 ** 2 == -4', [], true],
    ['10 % 3 == 1 and 1 / 2 == 0.5', [], true],
    ['!false == true', [], true],
    ['isNil(result) ? true : result > 1', null, true],
    ['default(result, 5) == 5', null, true],
  ])('%s with %j is %s', (expression, result, expected) => {
    expect(evaluateCondition(expression, result)).toBe(expected);
  });

  it.each([
    ['result[0] > 0.5', [], /index out of range: 0 \(array length is 0\)/],
    ['result[0] > 0.5', 0.7, /cannot fetch 0 from number/],
    ['result > 0.5', [0.7], /invalid operation: array > number/],
    ['len(result) && true', [1], /bool expected/],
    ['result[0]', [1], /expected bool, but got number/],
    ['result.x.y', { x: null }, /cannot fetch y from nil/],
  ])('%s with %j is a run-time error (an Error measurement in Argo)', (expression, result, message) => {
    expect(() => evaluateCondition(expression, result)).toThrow(ExpressionError);
    expect(() => evaluateCondition(expression, result)).toThrow(message);
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
