import { describe, expect, it } from 'vitest';
import type { RunMetric } from './analysis-template.js';
import { InvalidSpecError } from './invalid-spec.js';
import { findJsonPath, parseJsonPath } from './json-path.js';
import { planAnalysis } from './plan-analysis.js';
import { webMeasurement, webRequestProblem } from './web-measurement.js';

// metricproviders/webmetric/webmetric.go (Argo Rollouts v1.9.1) and the k8s JSONPath subset.
function web(
  provider: Record<string, unknown>,
  conditions: Record<string, string> = { successCondition: 'result == true' },
) {
  return planAnalysis(
    [{ metrics: [{ name: 'w', ...conditions, provider: { web: { url: 'http://127.0.0.1:9/s', ...provider } } }] }],
    [],
  )[0] as RunMetric;
}

describe('web metrics', () => {
  it('evaluates the first value the jsonPath finds, its JSON as the value (parseResponse, getValue)', () => {
    const metric = web({ jsonPath: '{$.items[*].ok}' });
    expect(webMeasurement({ status: 200, body: '{"items":[{"ok":true},{"ok":false}]}' }, metric, 0, 5)).toMatchObject({
      phase: 'Successful',
      value: 'true',
    });
    const numbers = web({ jsonPath: "{.data['error-rate']}" }, { successCondition: 'result < 0.05' });
    expect(webMeasurement({ status: 200, body: '{"data":{"error-rate":0.5}}' }, numbers, 0, 5)).toMatchObject({
      phase: 'Failed',
      value: '0.5',
    });
  });

  it('is Successful with the body as value when the body is not JSON, whatever the conditions (line 134)', () => {
    const metric = web({}, { successCondition: 'false' });
    expect(webMeasurement({ status: 200, body: 'OK' }, metric, 0, 5)).toMatchObject({
      phase: 'Successful',
      value: 'OK',
    });
  });

  it('is an Error on a non-2xx answer, a missing path, or a body on GET (lines 72-76, 107, 140)', () => {
    const metric = web({ jsonPath: '{$.data.ok}' });
    expect(webMeasurement({ status: 503, body: '{}' }, metric, 0, 5)).toMatchObject({
      phase: 'Error',
      message: 'received non 2xx response code: 503',
    });
    expect(webMeasurement({ status: 200, body: '{"data":{}}' }, metric, 0, 5)).toMatchObject({
      phase: 'Error',
      message: 'Could not find JSONPath in body: ok is not found',
    });
    expect(webRequestProblem(web({ body: 'x' }))).toBe(
      'Body/JSONBody can only be used with POST or PUT WebMetric Method types',
    );
    expect(webRequestProblem(web({ method: 'POST', body: 'x', jsonBody: { a: 1 } }))).toMatch(
      /use either Body or JSONBody/,
    );
    expect(webRequestProblem(web({ method: 'POST', jsonBody: { a: 1 } }))).toBeUndefined();
  });

  it('refuses JSONPath it does not read, and providers it does not run, as InvalidSpec', () => {
    expect(() => parseJsonPath('{.items[?(@.ok)]}')).toThrow(/a filter is not supported/);
    expect(() => parseJsonPath('{..ok}')).toThrow(/recursive descent/);
    expect(() => parseJsonPath('{.a[0:2]}')).toThrow(/a slice or union/);
    expect(() => web({ jsonPath: '{.a}{.b}' })).toThrow(InvalidSpecError);
    expect(findJsonPath({ a: [1, 2, 3] }, parseJsonPath('{.a[-1]}'))).toEqual([3]);
    expect(() => planAnalysis([{ metrics: [{ name: 'j', provider: { job: { spec: {} } } }] }], [])).toThrow(
      'metrics[0].provider.job: the job provider is not supported by shipway',
    );
  });
});
