import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderOverlay } from '../src/adapters/kustomize/render-overlay.js';
import { FIXTURES } from './support/fixtures.js';
import { REPO_ROOT } from './support/git-fixture.js';
import { shipway } from './support/run-shipway.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'shipway-validate-'));
  cpSync(join(REPO_ROOT, 'deployment'), join(dir, 'deployment'), { recursive: true });
  cpSync(join(REPO_ROOT, 'shipway.yaml'), join(dir, 'shipway.yaml'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('shipway validate', () => {
  it('passes for all three overlays and names every object', async () => {
    const run = await shipway(REPO_ROOT, ['validate']);
    expect(run.code).toBe(0);
    for (const env of ['dev', 'stage', 'prod']) expect(run.stdout).toContain(`${env} (deployment/${env})`);
    for (const object of [
      'Rollout/hello',
      'AnalysisTemplate/hello-success-rate',
      'Service/hello-canary',
      'ServiceAccount/hello',
      'PodDisruptionBudget/hello',
      'HorizontalPodAutoscaler/hello',
      'NetworkPolicy/hello',
    ]) {
      expect(run.stdout).toContain(`  ok      ${object}`);
    }
    expect(run.stdout).not.toContain('INVALID');
  });

  it('fails a misspelt Rollout field with its path and exit code 2', async () => {
    const file = join(dir, 'deployment/base/rollout.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('- setWeight: 50', '- setWieght: 50'));
    const run = await shipway(dir, ['validate', 'prod']);
    expect(run.code).toBe(2);
    expect(run.stdout).toContain('INVALID Rollout/hello');
    expect(run.stdout).toContain('spec.strategy.canary.steps[2]: unknown field "setWieght"');
    expect(run.stderr).toContain('shipway: validation failed: 1 problem');
  });

  it('fails a misspelt field and a wrong type in a core object', async () => {
    const file = join(dir, 'deployment/base/services.yaml');
    writeFileSync(
      file,
      readFileSync(file, 'utf8')
        .replace('targetPort: http\n---', 'targetPort: http\n      protocl: TCP\n---')
        .replace(
          'port: 80\n      targetPort: http\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: hello-canary',
          'port: "eighty"\n      targetPort: http\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: hello-canary',
        ),
    );
    const run = await shipway(dir, ['validate', 'dev', '--json']);
    expect(run.code).toBe(2);
    const report = JSON.parse(run.stdout);
    const problems = report.environments[0].objects.flatMap(
      (object: { kind: string; name: string; problems: { path: string; message: string }[] }) =>
        object.problems.map((problem) => `${object.kind}/${object.name} ${problem.path}: ${problem.message}`),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        'Service/hello spec.ports[0].protocl: unknown field "protocl"',
        'Service/hello-stable spec.ports[0].port: must be a number, got "eighty"',
      ]),
    );
  });

  it('says what to install when neither kustomize nor kubectl is on PATH', async () => {
    const run = await shipway(dir, ['validate'], { PATH: '/nonexistent' });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(
      /^shipway: neither kustomize nor kubectl is on PATH\n {2}hint: install kubectl \(it includes kustomize/m,
    );
  });

  it('rejects an unknown environment with exit 2', async () => {
    const run = await shipway(dir, ['validate', 'qa']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('unknown environment "qa"');
  });
});

// A second opinion from outside shipway's own validator: the strict JSON schemas kept beside the
// repository (yannh/kubernetes-json-schema v1.32.2 standalone-strict, and the datree catalog's Rollout
// and AnalysisTemplate schemas), vendored in shipway/test/fixtures/schemas (see its README).
describe('rendered objects against the vendored strict schemas', () => {
  const shared = join(FIXTURES, 'schemas');
  const files: Record<string, string> = {
    Service: 'kubernetes/v1.32.2-standalone-strict/service-v1.json',
    PodDisruptionBudget: 'kubernetes/v1.32.2-standalone-strict/poddisruptionbudget-policy-v1.json',
    HorizontalPodAutoscaler: 'kubernetes/v1.32.2-standalone-strict/horizontalpodautoscaler-autoscaling-v2.json',
    Rollout: 'argo-rollouts/json/rollout_v1alpha1.json',
    AnalysisTemplate: 'argo-rollouts/json/analysistemplate_v1alpha1.json',
  };
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });

  it.each(['dev', 'stage', 'prod'])('%s validates', async (env) => {
    const objects = (await renderOverlay(join(REPO_ROOT, 'deployment', env), process.env.PATH)) as {
      kind: string;
      metadata: { name: string };
    }[];
    let checked = 0;
    for (const object of objects) {
      const file = files[object.kind];
      if (file === undefined) continue;
      const validate = ajv.compile(JSON.parse(readFileSync(join(shared, file), 'utf8')));
      expect(validate(object) ? [] : validate.errors, `${object.kind}/${object.metadata.name}`).toEqual([]);
      checked += 1;
    }
    expect(checked).toBe(7);
  });
});
