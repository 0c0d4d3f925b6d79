import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toKubeObject } from '../src/local/cluster/object-store.js';
import { FakeKubeApi } from './support/fake-kube-api.js';

// The embedded cluster's API serves AnalysisRuns read-only (get, list; in discovery), behind the
// same bearer token as everything else, so `kubectl get analysisruns` and a dashboard can read
// measurements. Secrets are never served.
const run = promisify(execFile);
const api = new FakeKubeApi();
let dir: string;
let kubeconfig: string;

beforeAll(async () => {
  await api.start();
  dir = mkdtempSync(join(tmpdir(), 'shipway-api-ar-'));
  kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, api.kubeconfig(), { mode: 0o600 });
  api.store.put(
    toKubeObject({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'AnalysisRun',
      metadata: { name: 'hello-abc-4', namespace: 'hello-prod' },
      status: {
        phase: 'Failed',
        metricResults: [{ name: 'error-rate', measurements: [{ phase: 'Failed', value: '[0.5]' }] }],
      },
    }),
  );
  api.store.put(
    toKubeObject({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'creds', namespace: 'hello-prod' },
      data: { TOKEN: 'c2VjcmV0' },
    }),
  );
});
afterAll(async () => {
  await api.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('GET /apis/argoproj.io/v1alpha1/namespaces/<ns>/analysisruns[/<name>]', () => {
  it('kubectl get analysisruns -n <ns> lists them, and -o json shows the measurements', async () => {
    const table = await run('kubectl', ['--kubeconfig', kubeconfig, 'get', 'analysisruns', '-n', 'hello-prod']);
    expect(table.stdout).toMatch(/^NAME\s+AGE\nhello-abc-4\s+/);
    const one = await run('kubectl', [
      '--kubeconfig',
      kubeconfig,
      'get',
      'analysisrun',
      'hello-abc-4',
      '-n',
      'hello-prod',
      '-o',
      'json',
    ]);
    expect(JSON.parse(one.stdout)).toMatchObject({
      kind: 'AnalysisRun',
      status: { phase: 'Failed', metricResults: [{ name: 'error-rate', measurements: [{ value: '[0.5]' }] }] },
    });
  });

  it('needs the bearer token, is read-only, and serves no Secrets', async () => {
    const noToken = await run('kubectl', [
      '--kubeconfig',
      kubeconfig,
      '--token',
      'wrong',
      'get',
      'analysisruns',
      '-n',
      'hello-prod',
    ]).catch((error: { stderr: string }) => error);
    expect('stderr' in noToken ? noToken.stderr : '').toMatch(/Unauthorized|must be logged in/);
    const deleted = await run('kubectl', [
      '--kubeconfig',
      kubeconfig,
      'delete',
      'analysisrun',
      'hello-abc-4',
      '-n',
      'hello-prod',
    ]).catch((error: { stderr: string }) => error);
    expect('stderr' in deleted ? deleted.stderr : '').toMatch(/MethodNotAllowed|not supported|405/i);
    const secrets = await run('kubectl', [
      '--kubeconfig',
      kubeconfig,
      'get',
      '--raw',
      '/api/v1/namespaces/hello-prod/secrets',
    ]).catch((error: { stderr: string }) => error);
    expect('stderr' in secrets ? secrets.stderr : '').toMatch(/NotFound|could not find/);
    expect(JSON.stringify(secrets)).not.toContain('c2VjcmV0');
  });
});
