import { type ChildProcess, execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startCluster } from '../../src/app/cluster.js';
import { ApiServer } from '../../src/local/cluster/api-server.js';
import type { EmbeddedCluster } from '../../src/local/cluster/embedded-cluster.js';
import { ObjectStore } from '../../src/local/cluster/object-store.js';
import { createServingCertificate } from '../../src/local/cluster/serving-certificate.js';
import { type ClusterFixture, createClusterFixture } from '../support/cluster-fixture.js';
import { createGitFixture, type GitFixture, git } from '../support/git-fixture.js';
import { shipway, spawnShipway } from '../support/run-shipway.js';

// Probes of the embedded cluster (`shipway cluster up`) by another user of the machine and by a
// careless client: its API without the kubeconfig's token, merge-patch bodies that are not
// objects, methods it does not serve, oversized bodies, and a cluster process killed by SIGKILL.
const run = promisify(execFile);
const STATE = '.shipway/cluster';
const MIB = 1024 * 1024;
const COLLECTION = '/apis/argoproj.io/v1alpha1/namespaces/hello-prod/rollouts';
const ITEM = `${COLLECTION}/hello`;
type Json = Record<string, unknown>;

// The image is never pulled (nothing listens on port 9): the cluster keeps the object but runs nothing.
const ROLLOUT = {
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'Rollout',
  metadata: { name: 'hello', namespace: 'hello-prod', generation: 1, resourceVersion: '1' },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: 'hello' } },
    template: { spec: { containers: [{ name: 'hello', image: `127.0.0.1:9/hello:v1@sha256:${'a'.repeat(64)}` }] } },
    strategy: { canary: { steps: [{ setWeight: 50 }, { pause: {} }] } },
  },
  status: {},
};

interface Answer {
  readonly status: number;
  readonly body: Json;
}

/**
 * One raw HTTPS request, so that method, headers and body are exactly what the probe sends. It
 * does not check the server's certificate, as someone without the kubeconfig would not; kubectl
 * and shipway, which do, are exercised below.
 */
function call(
  base: string,
  method: string,
  path: string,
  options: { authorization?: string | undefined; body?: string | undefined } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (options.authorization !== undefined) headers.authorization = options.authorization;
  if (options.body !== undefined) headers['content-type'] = 'application/merge-patch+json';
  return new Promise((resolve, reject) => {
    const req = requestFor(base)(`${base}${path}`, { method, headers, rejectUnauthorized: false }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => {
        text += chunk.toString();
      });
      res.on('end', () => {
        let body: Json = {};
        try {
          body = JSON.parse(text) as Json;
        } catch {}
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    // A watch the server accepted would stream forever: treat silence as a failed probe.
    req.setTimeout(5000, () => req.destroy(new Error(`${method} ${path}: no complete answer within 5 s`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** The request function for the URL's scheme (the probes also run against the plain-HTTP API of old). */
function requestFor(url: string) {
  return url.startsWith('https:') ? httpsRequest : httpRequest;
}

describe('the cluster API', () => {
  let fixture: GitFixture;
  let cluster: EmbeddedCluster;
  let api: string;
  let stateDir: string;
  const kubeconfig = () => join(stateDir, 'kubeconfig');
  // '' when the kubeconfig has none (as before the fix), so that the probes still run and fail on their assertions.
  const token = () => String(parse(readFileSync(kubeconfig(), 'utf8')).users[0].user.token ?? '');
  const bearer = () => `Bearer ${token()}`;
  const getRollout = async () => (await call(api, 'GET', ITEM, { authorization: bearer() })).body;
  const start = async () => {
    const started = await startCluster(
      { cwd: fixture.work, env: process.env, progress: () => {} },
      { stateDir: STATE },
    );
    cluster = started.cluster;
    api = started.info.api;
  };

  beforeAll(async () => {
    fixture = createGitFixture();
    stateDir = join(fixture.work, STATE);
    // Made as any tool would make it (0755 under the usual umask): `cluster up` must narrow it.
    mkdirSync(stateDir, { recursive: true, mode: 0o755 });
    writeFileSync(join(stateDir, 'objects.json'), JSON.stringify({ version: 1, objects: [ROLLOUT] }));
    await start();
  }, 60_000);
  afterAll(async () => {
    await cluster?.down();
    fixture?.cleanup();
  }, 60_000);

  describe('requires the bearer token that `cluster up` writes into its kubeconfig', () => {
    it('serves HTTPS only, and keeps the token in a 0600 kubeconfig inside a 0700 state dir, nowhere else there', async () => {
      // kubectl (client-go) sends a bearer token over TLS only; no plain-HTTP API is left to probe.
      expect(api).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      await expect(fetch(`${api.replace('https:', 'http:')}/version`)).rejects.toThrow();
      expect(statSync(stateDir).mode & 0o777).toBe(0o700);
      expect(statSync(kubeconfig()).mode & 0o777).toBe(0o600);
      expect(token()).toMatch(/^[A-Za-z0-9_-]{43}$/);
      for (const file of ['cluster.json', 'objects.json'])
        expect(readFileSync(join(stateDir, file), 'utf8')).not.toContain(token());
    });

    const nodeOptions = JSON.stringify({
      spec: {
        template: {
          spec: {
            containers: [
              {
                name: 'hello',
                image: ROLLOUT.spec.template.spec.containers[0]?.image,
                env: [{ name: 'NODE_OPTIONS', value: '--require /tmp/evil.js' }],
              },
            ],
          },
        },
      },
    });
    it.each([
      ['GET', ITEM, undefined],
      ['GET', '/apis/argoproj.io/v1alpha1/rollouts', undefined],
      ['GET', `${COLLECTION}?watch=true`, undefined],
      ['PATCH', ITEM, nodeOptions],
      ['PATCH', `${ITEM}/status`, '{"status":{"abort":true}}'],
      ['GET', '/apis/apps/v1/namespaces/hello-prod/replicasets', undefined],
      ['GET', '/api/v1/namespaces', undefined],
      ['GET', '/version', undefined],
      ['GET', '/api', undefined],
      ['GET', '/apis', undefined],
      ['GET', '/apis/argoproj.io/v1alpha1', undefined],
      ['GET', '/shipway/v1/status', undefined],
    ])('%s %s → 401 Unauthorized without it or with a wrong one', async (method, path, body) => {
      const wrong = [
        undefined,
        `Bearer ${'A'.repeat(token().length || 43)}`,
        `Bearer ${token()}x`,
        `Bearer ${token().slice(0, -1)}`,
        'Bearer ',
        `Basic ${Buffer.from(`shipway:${token()}`).toString('base64')}`,
      ];
      for (const authorization of wrong) {
        const answer = await call(api, method, path, { authorization, body });
        expect([authorization, answer.status]).toEqual([authorization, 401]);
        expect(answer.body).toEqual({
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: 'Unauthorized',
          reason: 'Unauthorized',
          code: 401,
        });
      }
    });

    it('an anonymous NODE_OPTIONS patch and abort → 401, and they changed nothing', async () => {
      expect((await call(api, 'PATCH', ITEM, { body: nodeOptions })).status).toBe(401);
      expect((await call(api, 'PATCH', `${ITEM}/status`, { body: '{"status":{"abort":true}}' })).status).toBe(401);
      const rollout = await getRollout();
      expect(rollout.spec).toEqual(ROLLOUT.spec);
      expect((rollout.status as Json).abort).toBeUndefined();
    });

    it('with the token (scheme in any case, as kube-apiserver reads it) the API answers', async () => {
      expect((await call(api, 'GET', '/version', { authorization: bearer() })).status).toBe(200);
      expect((await call(api, 'GET', '/version', { authorization: `bearer ${token()}` })).status).toBe(200);
    });

    it('kubectl, `shipway rollout status` and `shipway cluster status` get through with the kubeconfig', async () => {
      const listed = await run('kubectl', ['--kubeconfig', kubeconfig(), 'get', 'rollouts.argoproj.io', '-A']);
      expect(listed.stdout).toMatch(/\nhello-prod\s+hello\s+/);
      const wrong = join(fixture.root, 'wrong-kubeconfig');
      writeFileSync(wrong, readFileSync(kubeconfig(), 'utf8').replace(token(), 'A'.repeat(43)));
      const refused = await run('kubectl', ['--kubeconfig', wrong, 'get', 'rollouts.argoproj.io', '-A'], {
        timeout: 20_000,
      }).catch((error: { stderr: string }) => error);
      expect('stderr' in refused ? refused.stderr : '').toMatch(/You must be logged in to the server/);
      // The local stack's kubeconfig, found without flags: SHIPWAY_HOME/cluster is this cluster's state dir.
      const home = { SHIPWAY_HOME: join(fixture.work, '.shipway') };
      const status = await shipway(fixture.work, ['rollout', 'status', 'prod', '--json'], home);
      expect(status.code, status.stderr).toBe(0);
      expect(JSON.parse(status.stdout)).toMatchObject({ name: 'hello', namespace: 'hello-prod' });
      const cluster = await shipway(fixture.work, ['cluster', 'status', '--json'], home);
      expect(cluster.code, cluster.stderr).toBe(0);
      expect(JSON.parse(cluster.stdout).environments.map((env: Json) => env.environment)).toEqual([
        'dev',
        'stage',
        'prod',
      ]);
    }, 90_000);

    it('each `cluster up` makes a new token: the previous one is refused', async () => {
      const previous = token();
      await cluster.down();
      await start();
      expect(token()).not.toBe(previous);
      expect((await call(api, 'GET', ITEM, { authorization: `Bearer ${previous}` })).status).toBe(401);
      expect((await call(api, 'GET', ITEM, { authorization: bearer() })).status).toBe(200);
    });
  });

  describe('answers requests it cannot honour as kube-apiserver does, and saves nothing', () => {
    it.each([
      ['null', 'null'],
      ['a string', '"spec"'],
      ['an array', '[{"spec":{"replicas":9}}]'],
      ['a number', '5'],
      ['an empty body', ''],
    ])('%s as a merge patch → 400 BadRequest (object and status)', async (_what, body) => {
      for (const path of [ITEM, `${ITEM}/status`]) {
        const answer = await call(api, 'PATCH', path, { authorization: bearer(), body });
        expect([path, answer.status, answer.body.reason]).toEqual([path, 400, 'BadRequest']);
      }
      const rollout = await getRollout();
      expect(Object.keys(rollout).sort()).toEqual(['apiVersion', 'kind', 'metadata', 'spec', 'status']);
      expect(rollout.spec).toEqual(ROLLOUT.spec);
    });

    it('a patch that would make spec or status a non-object → 422 Invalid', async () => {
      const spec = await call(api, 'PATCH', ITEM, { authorization: bearer(), body: '{"spec":"x"}' });
      const status = await call(api, 'PATCH', `${ITEM}/status`, { authorization: bearer(), body: '{"status":5}' });
      expect([spec.status, spec.body.reason, status.status, status.body.reason]).toEqual([
        422,
        'Invalid',
        422,
        'Invalid',
      ]);
      expect((await getRollout()).spec).toEqual(ROLLOUT.spec);
    });

    it('a patch sets spec only: kind, apiVersion, metadata and unknown top-level fields stay as they are', async () => {
      const body = JSON.stringify({
        kind: 'ReplicaSet',
        apiVersion: 'v1',
        junk: 1,
        metadata: { name: 'x' },
        spec: { replicas: 2 },
      });
      expect((await call(api, 'PATCH', ITEM, { authorization: bearer(), body })).status).toBe(200);
      const rollout = await getRollout();
      expect(rollout).toMatchObject({
        kind: 'Rollout',
        apiVersion: 'argoproj.io/v1alpha1',
        metadata: { name: 'hello' },
        spec: { replicas: 2 },
      });
      expect(rollout.junk).toBeUndefined();
      await call(api, 'PATCH', ITEM, { authorization: bearer(), body: '{"spec":{"replicas":1}}' });
    });

    it.each([
      ['DELETE', ITEM],
      ['PUT', ITEM],
      ['POST', COLLECTION],
      ['PATCH', COLLECTION],
      ['PUT', `${ITEM}/status`],
      ['DELETE', '/apis'],
      ['POST', '/shipway/v1/status'],
      ['PUT', '/api/v1/namespaces'],
      ['DELETE', '/apis/apps/v1/namespaces/hello-prod/replicasets'],
    ])('%s %s → 405 MethodNotAllowed', async (method, path) => {
      const body = method === 'DELETE' ? undefined : JSON.stringify(ROLLOUT);
      const answer = await call(api, method, path, { authorization: bearer(), body });
      expect([answer.status, answer.body.kind, answer.body.reason]).toEqual([405, 'Status', 'MethodNotAllowed']);
      expect((await getRollout()).spec).toEqual(ROLLOUT.spec);
    });

    it('a body of exactly 3 MiB is read; one byte more → 413 RequestEntityTooLarge, nothing saved', async () => {
      const exact = await call(api, 'PATCH', ITEM, { authorization: bearer(), body: `{}${' '.repeat(3 * MIB - 2)}` });
      expect(exact.status).toBe(200);
      const over = await call(api, 'PATCH', ITEM, {
        authorization: bearer(),
        body: `{"spec":{"replicas":7}}${' '.repeat(3 * MIB - 22)}`,
      });
      expect([over.status, over.body.reason, over.body.message]).toEqual([
        413,
        'RequestEntityTooLarge',
        'Request entity too large: limit is 3145728',
      ]);
      expect((await getRollout()).spec).toEqual(ROLLOUT.spec);
    });

    it('stops reading a chunked body once it passes 3 MiB: the 413 comes while the client is still sending', async () => {
      const status = await new Promise<number>((resolve, reject) => {
        const headers = { authorization: bearer(), 'content-type': 'application/merge-patch+json' };
        const req = requestFor(api)(`${api}${ITEM}`, { method: 'PATCH', headers, rejectUnauthorized: false }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
          req.destroy();
        });
        req.on('error', () => {});
        req.write('{"spec":{"replicas":7},"pad":"');
        req.write(Buffer.alloc(4 * MIB, 'a')); // never ended: a server that waits for the end never answers
        setTimeout(() => reject(new Error('no answer within 10 s')), 10_000).unref();
      });
      expect(status).toBe(413);
      expect((await getRollout()).spec).toEqual(ROLLOUT.spec);
    });
  });
});

/** A process as /proc/<pid>/stat shows it: its start time (field 22) tells it from a reused pid. */
interface Proc {
  readonly pid: number;
  readonly startTime: string;
}

function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

function identify(pid: number): Proc {
  return { pid, startTime: statFields(pid)?.[19] ?? 'gone' };
}

/** Still that process and not a zombie (a zombie has exited; only its parent has not collected it). */
function running(proc: Proc): boolean {
  const fields = statFields(proc.pid);
  return fields !== undefined && fields[0] !== 'Z' && fields[19] === proc.startTime;
}

describe('a cluster process killed with SIGKILL', () => {
  let fixture: ClusterFixture;
  let dir: string;
  let tmp: string;
  let ref: string;
  const clusters: ChildProcess[] = [];
  const seen: Proc[] = [];

  beforeAll(async () => {
    fixture = await createClusterFixture('shipway-hardening-cluster-');
    dir = fixture.clone.dir;
    // As light as the config allows: one environment (dev, no canary steps), two replicas.
    const config = readFileSync(join(dir, 'shipway.yaml'), 'utf8');
    writeFileSync(join(dir, 'shipway.yaml'), config.slice(0, config.indexOf('  - name: stage')));
    const overlay = join(dir, 'deployment/dev/kustomization.yaml');
    const replicas = 'path: /spec/replicas\n        value: 1';
    writeFileSync(overlay, readFileSync(overlay, 'utf8').replace(replicas, replicas.replace('1', '2')));
    git(dir, 'commit', '--quiet', '-am', 'test: dev only, two replicas');
    git(dir, 'push', '--quiet', 'origin', 'HEAD:main');
    ref = (await fixture.build('v1')).ref;
    // The cluster's own temp dir: leftovers there are the cluster's, not another test's.
    tmp = mkdtempSync(join(tmpdir(), 'shipway-hardening-tmp-'));
  }, 240_000);

  afterAll(async () => {
    // A cluster still up is stopped as `cluster down` stops it, so that its pods go with it.
    for (const child of clusters.filter((each) => each.exitCode === null && each.signalCode === null)) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(30_000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    for (const proc of seen.filter(running)) {
      for (const target of [-proc.pid, proc.pid])
        try {
          process.kill(target, 'SIGKILL');
        } catch {}
    }
    await fixture?.stop();
    if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
  }, 90_000);

  function clusterUp(): ChildProcess {
    const child = spawnShipway(dir, ['cluster', 'up', '--state-dir', STATE], { ...fixture.env, TMPDIR: tmp });
    clusters.push(child);
    return child;
  }

  async function answering(child: ChildProcess): Promise<void> {
    let output = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(250)) {
      if (child.exitCode !== null) throw new Error(`cluster up exited with ${child.exitCode}: ${output}`);
      const info = existsSync(join(dir, STATE, 'cluster.json'))
        ? (JSON.parse(readFileSync(join(dir, STATE, 'cluster.json'), 'utf8')) as { pid: number })
        : undefined;
      if (info?.pid === child.pid && (await shipway(dir, ['cluster', 'status', '--json'], fixture.env)).code === 0)
        return;
    }
    throw new Error(`cluster up did not answer within 60 s: ${output}`);
  }

  async function readyPods(count: number, besides: readonly Proc[]): Promise<Proc[]> {
    let last = '';
    for (const deadline = Date.now() + 90_000; Date.now() < deadline; await sleep(500)) {
      const status = await shipway(dir, ['cluster', 'status', '--json'], fixture.env);
      last = status.stdout || status.stderr;
      if (status.code !== 0) continue;
      const pods = (
        JSON.parse(status.stdout) as { environments: { pods: { state: string; pid: number | null }[] }[] }
      ).environments[0]?.pods
        .filter((pod) => pod.state === 'ready' && pod.pid !== null)
        .map((pod) => identify(pod.pid ?? 0))
        .filter((proc) => !besides.some((other) => other.pid === proc.pid));
      if (pods !== undefined && pods.length >= count) {
        seen.push(...pods);
        return pods;
      }
    }
    throw new Error(`no ${count} ready pods within 90 s: ${last}`);
  }

  /** The cluster's Git scratch dirs, wherever it keeps them (its state dir, or the temp dir it was given). */
  function scratchDirs(): string[] {
    const list = (parent: string) => (existsSync(parent) ? readdirSync(parent).map((name) => join(parent, name)) : []);
    return [...list(join(dir, STATE, 'git')), ...list(tmp)];
  }

  async function sigkill(child: ChildProcess): Promise<void> {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  it('leaves pods that the next `cluster up`, or else `cluster down`, kills, with its Git scratch dirs', async () => {
    const first = clusterUp();
    await answering(first);
    const promoted = await shipway(dir, ['promote', 'dev', '--approve', '--image', ref], fixture.env);
    expect(promoted.code, promoted.stderr).toBe(0);
    const firstPods = await readyPods(2, []);
    const firstScratch = scratchDirs();
    expect(firstScratch.length).toBeGreaterThan(0);
    await sigkill(first);
    // The defect: nothing stops a killed cluster's pods.
    expect(firstPods.filter(running)).toEqual(firstPods);

    const second = clusterUp();
    await answering(second);
    expect(firstPods.filter(running)).toEqual([]);
    expect(firstScratch.filter((path) => existsSync(path))).toEqual([]);
    expect(readdirSync(tmp)).toEqual([]);

    // The same through `cluster down` when the cluster it names was killed.
    const secondPods = await readyPods(2, firstPods);
    const secondScratch = scratchDirs();
    await sigkill(second);
    expect(secondPods.filter(running)).toEqual(secondPods);
    const down = await shipway(dir, ['cluster', 'down'], fixture.env);
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout).toMatch(/was not running; stopped 2 pod process\(es\) it left running/);
    expect(secondPods.filter(running)).toEqual([]);
    expect(secondScratch.filter((path) => existsSync(path))).toEqual([]);
  }, 300_000);
});

// State files and answers shipway did not write (a disk that lost a write, a hand edit, a cluster
// of another version): parsed with a schema, each refused with an ExternalError (exit 3) naming
// the file or endpoint, never a TypeError (exit 1) or a guess.
describe('state files and status answers that are not what `cluster up` writes', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  const stateDir = (files: Record<string, string>) => {
    const dir = mkdtempSync(join(tmpdir(), 'shipway-state-'));
    dirs.push(dir);
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    return dir;
  };

  it('`cluster status` with a cluster.json that is not JSON: exit 3, the file named, what to do', async () => {
    const dir = stateDir({ 'cluster.json': '{"pid": 12' });
    const run = await shipway(dir, ['cluster', 'status', '--state-dir', dir]);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`${join(dir, 'cluster.json')} is not JSON`);
    expect(run.stderr).toContain('delete the file, and start the cluster again');
    expect(run.stderr).not.toMatch(/TypeError|please report/);
  });

  it('`cluster down` with a cluster.json of the wrong shape: exit 3, every problem with its path', async () => {
    const dir = stateDir({ 'cluster.json': JSON.stringify({ pid: '999999999', api: 'nowhere' }) });
    const run = await shipway(dir, ['cluster', 'down', '--state-dir', dir]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(
      new RegExp(`${join(dir, 'cluster.json')} is not the state \`cluster up\` writes: pid: .*; api: `),
    );
  });

  it('`cluster up` with a registry.json that is not an address: exit 3 before anything listens', async () => {
    const dir = stateDir({ 'registry.json': 'null' });
    const registryDir = join(dir, 'registry');
    const child = spawnShipway(dir, ['cluster', 'up', '--state-dir', dir, '--registry-dir', registryDir]);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    // A cluster up that started would run until told to stop: stop it, and fail below.
    const guard = setTimeout(() => child.kill('SIGTERM'), 20_000);
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    clearTimeout(guard);
    expect(code).toBe(3);
    expect(stderr).toContain(`${join(dir, 'registry.json')} is not the state \`cluster up\` writes: (file): `);
    expect(existsSync(join(dir, 'cluster.json'))).toBe(false);
  }, 30_000);

  describe('`cluster status` against a cluster whose answers have another shape', () => {
    const tls = createServingCertificate(new Date());
    let answer: unknown = [];
    const server = new ApiServer(new ObjectStore(), {
      token: 'state-token',
      tls,
      hooks: {
        extra: new Map<string, () => unknown>([
          ['/shipway/v1/status', () => answer],
          ['/shipway/v1/apps', () => []],
        ]),
      },
    });
    let dir = '';
    let api = '';
    beforeAll(async () => {
      api = await server.listen(0);
      dir = stateDir({
        'cluster.json': JSON.stringify({ pid: process.pid, api, urls: {}, apps: {} }),
        kubeconfig: [
          'apiVersion: v1',
          'kind: Config',
          `clusters: [{name: c, cluster: {server: "${api}", certificate-authority-data: ${Buffer.from(tls.cert).toString('base64')}}}]`,
          'users: [{name: u, user: {token: state-token}}]',
          'contexts: [{name: c, context: {cluster: c, user: u}}]',
          'current-context: c',
          '',
        ].join('\n'),
      });
    });
    afterAll(() => server.close());

    it('an empty list is read (the fake answers as the cluster does)', async () => {
      answer = [];
      const run = await shipway(dir, ['cluster', 'status', '--state-dir', dir]);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
    });

    it('an object where the environments list should be: exit 3, the endpoint named', async () => {
      answer = { environments: [] };
      const run = await shipway(dir, ['cluster', 'status', '--state-dir', dir]);
      expect(run.code).toBe(3);
      expect(run.stderr).toContain(
        `the embedded cluster at ${api} answered /shipway/v1/status with a body shipway cannot read: (body): `,
      );
    });

    it('an environment with an unknown phase and no pods list: exit 3, the fields named', async () => {
      answer = [
        {
          app: 'a',
          environment: 'dev',
          namespace: 'a-dev',
          url: 'http://127.0.0.1:1',
          sync: null,
          rollout: { phase: 'Exploded' },
        },
      ];
      const run = await shipway(dir, ['cluster', 'status', '--state-dir', dir]);
      expect(run.code).toBe(3);
      expect(run.stderr).toMatch(
        /answered \/shipway\/v1\/status with a body shipway cannot read: 0\.rollout\.name: .*0\.rollout\.namespace: /,
      );
    });

    it('an answer that is not JSON (a proxy error page on its port): exit 3, CLUSTER_PROTOCOL with its start, not "does not answer"', async () => {
      const page = createHttpsServer({ key: tls.key, cert: tls.cert }, (_request, response) => {
        response.writeHead(502, { 'content-type': 'text/html' }).end('<html><body>Bad Gateway</body></html>');
      });
      await new Promise<void>((done) => page.listen(0, '127.0.0.1', done));
      const port = (page.address() as { port: number }).port;
      const other = stateDir({
        'cluster.json': JSON.stringify({ pid: process.pid, api: `https://127.0.0.1:${port}`, urls: {}, apps: {} }),
        kubeconfig: readFileSync(join(dir, 'kubeconfig'), 'utf8').replace(api, `https://127.0.0.1:${port}`),
      });
      try {
        const run = await shipway(other, ['cluster', 'status', '--state-dir', other]);
        expect(run.code).toBe(3);
        expect(run.stderr).toContain(
          'answered /shipway/v1/status with HTTP 502 and something not JSON: "<html><body>Bad Gateway',
        );
        expect(run.stderr).not.toContain('does not answer');
      } finally {
        page.close();
      }
    });
  });
});
