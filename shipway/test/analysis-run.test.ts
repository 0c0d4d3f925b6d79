import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, waitFor } from './support/free-port.js';
import { shipway, shipwayProcess } from './support/run-shipway.js';

// `shipway analysis run` against a real hello service process on 127.0.0.1 and against a fixed
// /metrics text, through the CLI: every measurement and the verdict, and the exit codes the
// README promises (0 Successful, 4 Failed/Inconclusive, 3 unreachable or Error, 2 invalid).
const FIXTURES = fileURLToPath(new URL('fixtures/analysis/', import.meta.url));
const SERVICE = fileURLToPath(new URL('../../service/dist/server.js', import.meta.url));

interface Report {
  status: {
    phase: string;
    message?: string;
    metricResults: { name: string; phase: string; measurements: { phase: string; value?: string }[] }[];
  };
}

const run = (...argv: string[]) => shipway(FIXTURES, ['analysis', 'run', ...argv]);
const phases = (report: Report) =>
  Object.fromEntries(report.status.metricResults.map((r) => [r.name, r.measurements.map((m) => m.phase)]));

describe('against a fixed /metrics text', () => {
  let server: Server;
  let base: string;
  const probes: (string | undefined)[] = [];
  beforeAll(async () => {
    server = createServer((request, response) => {
      if (request.url === '/status') {
        probes.push(request.headers['x-probe'] as string | undefined);
        response.setHeader('content-type', 'application/json');
        return response.end(JSON.stringify({ data: { ok: true } }));
      }
      response.end('# TYPE queue_depth gauge\nqueue_depth{queue="a"} 3\nqueue_depth{queue="b"} 12\n');
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((done) => server.close(() => done())));

  it('fails the run on the deepest queue (12 >= limit 10): exit 4, every measurement printed', async () => {
    const result = await run('fixed-template.yaml', '--against', `${base}/metrics`, '--arg', `base=${base}`, '--json');
    expect(result.code).toBe(4);
    const report = JSON.parse(result.stdout) as Report;
    expect(report.status.phase).toBe('Failed');
    expect(report.status.message).toBe('Metric "deepest-queue" assessed Failed due to failed (1) > failureLimit (0)');
    const values = Object.fromEntries(report.status.metricResults.map((r) => [r.name, r.measurements[0]?.value]));
    // max is a vector ([12]); scalar(sum) is a scalar (15); the web metric's JSON value (true).
    expect(values).toEqual({ 'deepest-queue': '[12]', 'total-depth': '15', 'status-page': 'true' });
    expect(phases(report)).toEqual({
      'deepest-queue': ['Failed'],
      'total-depth': ['Successful'],
      'status-page': ['Successful'],
    });
    expect(probes.at(-1)).toBe('shipway');
    expect(result.stderr).toMatch(/deepest-queue #1 Failed \[12\]/);
    expect(result.stderr).toMatch(/analysis of fixed-template.yaml .* ended Failed/);
  });

  it('passes with a higher limit (exit 0), printing a table and the verdict', async () => {
    const result = await run(
      'fixed-template.yaml',
      '--against',
      `${base}/metrics`,
      '--arg',
      `base=${base}`,
      '--arg',
      'limit=13',
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/deepest-queue\s+1\s+Successful\s+\[12\]/);
    expect(result.stdout).toMatch(/AnalysisRun Successful/);
  });

  it('refuses PromQL it does not evaluate with its position, a missing argument and bad --arg (exit 2)', async () => {
    const { mkdtempSync, writeFileSync, readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'shipway-analysis-'));
    const template = readFileSync(join(FIXTURES, 'fixed-template.yaml'), 'utf8').replace(
      'query: max(queue_depth)',
      'query: max(predict_linear(queue_depth[5m], 60))',
    );
    writeFileSync(join(dir, 't.yaml'), template);
    const invalid = await shipway(dir, [
      'analysis',
      'run',
      't.yaml',
      '--against',
      `${base}/metrics`,
      '--arg',
      'base=x',
    ]);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(
      /metrics\[0\]\.provider\.prometheus\.query: PromQL 1:5: the function predict_linear\(\) is not supported/,
    );
    const missing = await run('fixed-template.yaml', '--against', `${base}/metrics`);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/args\.base was not resolved/);
    expect((await run('fixed-template.yaml', '--against', `${base}/metrics`, '--arg', 'nonsense')).code).toBe(2);
  });

  it('says an unreachable target is unreachable (exit 3)', async () => {
    const port = await freePort();
    const result = await run('fixed-template.yaml', '--against', `http://127.0.0.1:${port}/metrics`, '--arg', 'base=x');
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/cannot scrape http:\/\/127\.0\.0\.1:\d+\/metrics/);
  });

  it('teaches with an example in --help', async () => {
    const help = await shipwayProcess(FIXTURES, ['analysis', 'run', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(
      /shipway analysis run deployment\/base\/analysis-template\.yaml --against prod --arg canary-hash=/,
    );
    expect(help.stdout).toMatch(/0 Successful; 4 Failed or Inconclusive/);
  });
});

describe('against the hello service running as a process', () => {
  let service: ChildProcess;
  let url: string;
  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    service = spawn(process.execPath, [SERVICE], {
      env: { ...process.env, PORT: String(port), LOG_LEVEL: 'error' },
      stdio: 'ignore',
    });
    await waitFor(async () => (await fetch(`${url}/readyz`)).ok, 'the hello service');
  });
  afterAll(() => {
    service.kill('SIGKILL');
  });

  /** Sends requests to the paths in turn (bounded) while `body` runs. */
  async function withTraffic<T>(paths: string[], body: () => Promise<T>): Promise<T> {
    let sending = true;
    const traffic = (async () => {
      for (let sent = 0; sending && sent < 20_000; sent += 1)
        await fetch(`${url}${paths[sent % paths.length]}`).then((r) => r.arrayBuffer());
    })();
    try {
      return await body();
    } finally {
      sending = false;
      await traffic;
    }
  }

  it('passes while it answers 200 on /', async () => {
    const result = await withTraffic(['/'], () =>
      run('service-template.yaml', '--against', `${url}/metrics`, '--arg', 'route=/', '--json'),
    );
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as Report;
    expect(phases(report)).toEqual({
      'requests-seen': ['Successful', 'Successful'],
      p99: ['Successful', 'Successful'],
      'not-found-ratio': ['Successful', 'Successful'],
    });
    // No 404 series yet: an empty vector, which the failureCondition guards with len(result).
    expect(report.status.metricResults[2]?.measurements[0]?.value).toBe('[]');
  });

  it('fails once most answers are 404s (exit 4)', async () => {
    const result = await withTraffic(['/nope', '/nope', '/nope', '/'], () =>
      run('service-template.yaml', '--against', `${url}/metrics`, '--arg', 'route=/', '--json'),
    );
    expect(result.code, result.stderr).toBe(4);
    const report = JSON.parse(result.stdout) as Report;
    expect(report.status.message).toBe('Metric "not-found-ratio" assessed Failed due to failed (1) > failureLimit (0)');
    const ratio = Number(/\[(.*)\]/.exec(report.status.metricResults[2]?.measurements[0]?.value ?? '')?.[1]);
    expect(ratio).toBeGreaterThan(0.2);
    expect(ratio).toBeLessThanOrEqual(1);
  });
});
