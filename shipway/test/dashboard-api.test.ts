import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostAllowed } from '../src/adapters/dashboard-http/dashboard-security.js';
import { type ServedDashboard, serveDashboard } from '../src/app/dashboard/serve-dashboard.js';
import type { Card } from '../src/core/dashboard/board-model.js';
import { isLoopbackHost } from '../src/core/loopback-host.js';
import { createGitFixture, DIGEST_A, DIGEST_B, type GitFixture } from './support/git-fixture.js';
import { postAction, probe, signIn } from './support/http-probe.js';
import { shipway, spawnShipway } from './support/run-shipway.js';

// The dashboard's JSON API on its own: a real Git remote with real promotions, the real Fastify
// server on 127.0.0.1 (or 0.0.0.0), real HTTP requests. No cluster here: the board says so per card.
let fixture: GitFixture;
const image = (tag: string, digest: string) => `127.0.0.1:5000/hello:${tag}@${digest}`;
const STANDING = 'standing-token-for-scripts-0123456789';
const logs: string[] = [];

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    TMPDIR: process.env.TMPDIR ?? '/tmp',
    ...extra,
  };
}

async function serve(options: { allowActions: boolean; host?: string; token?: string }): Promise<ServedDashboard> {
  return serveDashboard(
    {
      cwd: fixture.work,
      env: env(options.token === undefined ? {} : { SHIPWAY_DASHBOARD_TOKEN: options.token }),
      progress: (line) => logs.push(line),
    },
    { host: options.host ?? '127.0.0.1', port: 0, allowActions: options.allowActions },
  );
}

const tokenOf = (served: ServedDashboard) => new URL(served.loginUrl ?? '').searchParams.get('token') ?? '';

beforeAll(async () => {
  fixture = createGitFixture();
  for (const [index, argv] of [
    ['promote', 'dev', '--image', image('v1', DIGEST_A)],
    ['promote', 'stage', '--from', 'dev'],
    ['promote', 'prod', '--from', 'stage', '--approve'],
    ['promote', 'dev', '--image', image('v2', DIGEST_B)],
  ].entries()) {
    // One minute apart: the timeline orders by commit time, which git keeps in whole seconds.
    const at = `${1_767_225_600 + index * 60} +0000`;
    Object.assign(process.env, { GIT_AUTHOR_DATE: at, GIT_COMMITTER_DATE: at });
    const run = await shipway(fixture.work, argv);
    if (run.code !== 0) throw new Error(run.stderr);
  }
  delete process.env.GIT_AUTHOR_DATE;
  delete process.env.GIT_COMMITTER_DATE;
  // A pipeline record and a job log as `shipway run` writes them.
  const runDir = join(fixture.work, '.shipway', 'runs', '4242-dev');
  mkdirSync(runDir, { recursive: true });
  writeFileSync(join(runDir, 'build.log'), 'line one\nline two ✓\n');
  writeFileSync(
    join(runDir, 'pipeline.json'),
    JSON.stringify({
      version: 1,
      id: 4242,
      ref: 'dev',
      sha: 'f'.repeat(40),
      created: true,
      reason: null,
      status: 'success',
      startedAt: '2024-03-01T00:00:00.000Z',
      finishedAt: '2024-03-01T00:01:00.000Z',
      ms: 60_000,
      jobs: [
        {
          name: 'build',
          stage: 'build',
          status: 'success',
          startedAt: '2024-03-01T00:00:00.000Z',
          finishedAt: '2024-03-01T00:00:30.000Z',
          ms: 30_000,
          log: 'build.log',
        },
      ],
    }),
  );
}, 120_000);

afterAll(() => fixture?.cleanup());

describe('dashboard API: reading (docs/dashboard.md)', () => {
  let served: ServedDashboard;
  beforeAll(async () => {
    served = await serve({ allowActions: false });
  });
  afterAll(() => served?.server.close());

  it('GET /api/apps lists apps → environments in promotion order', async () => {
    const answer = await probe(`${served.url}api/apps`);
    expect(answer.status).toBe(200);
    expect(answer.json<unknown[]>()).toEqual([
      {
        name: 'hello',
        environments: [
          { name: 'dev', branch: 'dev', namespace: 'hello-dev', gate: 'auto', from: null, strategy: 'rolling' },
          { name: 'stage', branch: 'stage', namespace: 'hello-stage', gate: 'auto', from: 'dev', strategy: 'rolling' },
          { name: 'prod', branch: 'prod', namespace: 'hello-prod', gate: 'manual', from: 'stage', strategy: 'canary' },
        ],
      },
    ]);
  });

  it('GET board: digest shortened to 12 hex digits, the same digest is the same release, the commit and its trailers', async () => {
    const board = (await probe(`${served.url}api/apps/hello/board`)).json<{ cards: Card[] }>();
    expect(board.cards.map((card) => card.environment)).toEqual(['dev', 'stage', 'prod']);
    const [dev, stage, prod] = board.cards;
    expect(dev?.image).toEqual({
      repository: '127.0.0.1:5000/hello',
      tag: 'v2',
      digest: { full: DIGEST_B, short: 'b'.repeat(12), release: 1 },
    });
    expect(stage?.image.digest).toEqual({ full: DIGEST_A, short: 'a'.repeat(12), release: 2 });
    expect(prod?.image.digest).toEqual(stage?.image.digest);
    const prodTip = fixture.git(fixture.remote, 'rev-parse', 'prod').trim();
    expect(prod?.commit).toMatchObject({ sha: prodTip, short: prodTip.slice(0, 12), from: 'stage', kind: 'promote' });
    // No cluster in this test: each card says why it has no rollout, and nothing is made up.
    expect(prod?.rollout).toBeNull();
    expect(prod?.problems.join(' ')).toMatch(/no cluster/);
  });

  it('GET timeline lists every release event newest first; a commit diff is the exact overlay change', async () => {
    const events = (await probe(`${served.url}api/apps/hello/timeline`)).json<Record<string, string>[]>();
    expect(events.map((event) => `${event.environment} ${event.kind} ${event.digest}`)).toEqual([
      `dev promote ${DIGEST_B}`,
      `prod promote ${DIGEST_A}`,
      `stage promote ${DIGEST_A}`,
      `dev promote ${DIGEST_A}`,
    ]);
    const latest = events[0]?.commit ?? '';
    const diff = (await probe(`${served.url}api/apps/hello/environments/dev/commits/${latest}/diff`)).json<{
      patch: string;
    }>();
    expect(diff.patch).toContain('--- a/deployment/dev/kustomization.yaml');
    expect(diff.patch).toContain(`-    digest: ${DIGEST_A}`);
    expect(diff.patch).toContain(`+    digest: ${DIGEST_B}`);
    // A commit that is not a release of that environment cannot be read through this endpoint.
    expect((await probe(`${served.url}api/apps/hello/environments/prod/commits/${latest}/diff`)).status).toBe(404);
  });

  it('GET preview shows the kustomization diff and the rendered-manifest diff of promote stage --from dev, and changes nothing', async () => {
    const before = fixture.refs();
    const answer = await probe(`${served.url}api/apps/hello/environments/stage/preview`);
    expect(answer.status, answer.body).toBe(200);
    const preview = answer.json<Record<string, string>>();
    expect(preview).toMatchObject({
      environment: 'stage',
      from: 'dev',
      status: 'planned',
      image: image('v2', DIGEST_B),
    });
    expect(preview.kustomizationDiff).toContain(`+    digest: ${DIGEST_B}`);
    expect(preview.renderedDiff).toContain(`-          image: ${image('v1', DIGEST_A)}`);
    expect(preview.renderedDiff).toContain(`+          image: ${image('v2', DIGEST_B)}`);
    expect(fixture.refs()).toBe(before);
    // dev has no upstream: refused, not a server error.
    expect((await probe(`${served.url}api/apps/hello/environments/dev/preview`)).status).toBe(409);
  });

  it('GET pipelines, one pipeline and a job log from an offset', async () => {
    const runs = (await probe(`${served.url}api/apps/hello/pipelines`)).json<Record<string, unknown>[]>();
    expect(runs).toMatchObject([
      {
        run: '4242-dev',
        id: 4242,
        ref: 'dev',
        status: 'success',
        jobs: [{ name: 'build', status: 'success', ms: 30_000 }],
      },
    ]);
    const log = (await probe(`${served.url}api/apps/hello/pipelines/4242-dev/jobs/build/log?offset=9`)).json();
    expect(log).toEqual({
      text: 'line two ✓\n',
      next: Buffer.byteLength('line one\nline two ✓\n'),
      size: Buffer.byteLength('line one\nline two ✓\n'),
    });
  });

  it('bad input is 400 with every problem named; unknown things are 404', async () => {
    const days = await probe(`${served.url}api/apps/hello/metrics?days=0`);
    expect(days.status).toBe(400);
    expect(days.json().problems).toEqual([expect.stringMatching(/^days: /)]);
    expect((await probe(`${served.url}api/apps/hello/pipelines/4242-dev/jobs/build/log?offset=-1`)).status).toBe(400);
    expect((await probe(`${served.url}api/apps/nope/board`)).status).toBe(404);
    expect((await probe(`${served.url}api/apps/hello/environments/qa/preview`)).status).toBe(404);
    expect((await probe(`${served.url}api/apps/hello/environments/dev/commits/not-hex/diff`)).status).toBe(400);
    expect((await probe(`${served.url}api/apps/hello/pipelines/4242-dev/jobs/deploy/log`)).status).toBe(404);
  });

  it('read-only (no --allow-actions): every action is 403 READ_ONLY, even signed in, and nothing changes', async () => {
    const before = fixture.refs();
    const auth = await signIn(served.url, tokenOf(served));
    const answer = await postAction(
      served.url,
      'api/apps/hello/environments/stage/actions',
      { action: 'release', digest: DIGEST_B },
      auth,
    );
    expect(answer.status).toBe(403);
    expect(answer.json().code).toBe('READ_ONLY');
    expect(fixture.refs()).toBe(before);
  });
});

describe('dashboard API: actions (--allow-actions)', () => {
  let served: ServedDashboard;
  let auth: { cookie: string; csrf: string };
  beforeAll(async () => {
    served = await serve({ allowActions: true });
    auth = await signIn(served.url, tokenOf(served));
  });
  afterAll(() => served?.server.close());

  it('without a session: 403 SESSION_REQUIRED; without the CSRF header: 403 CSRF; nothing changes', async () => {
    const before = fixture.refs();
    const path = 'api/apps/hello/environments/stage/actions';
    const body = JSON.stringify({ action: 'release', digest: DIGEST_B });
    const anonymous = await probe(`${served.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: served.url.slice(0, -1) },
      body,
    });
    expect([anonymous.status, anonymous.json().code]).toEqual([403, 'SESSION_REQUIRED']);
    const noCsrf = await postAction(
      served.url,
      path,
      { action: 'release', digest: DIGEST_B },
      { cookie: auth.cookie, csrf: '' },
    );
    expect([noCsrf.status, noCsrf.json().code]).toEqual([403, 'CSRF']);
    const wrongCsrf = await postAction(
      served.url,
      path,
      { action: 'release', digest: DIGEST_B },
      { cookie: auth.cookie, csrf: 'x'.repeat(43) },
    );
    expect([wrongCsrf.status, wrongCsrf.json().code]).toEqual([403, 'CSRF']);
    expect(fixture.refs()).toBe(before);
  });

  it('signed in: release stage from dev with the confirmed digest; the same gates as the CLI; every action audited', async () => {
    const path = 'api/apps/hello/environments';
    // A digest that is not the one upstream: refused like --expect-digest, nothing pushed.
    const before = fixture.refs();
    const stale = await postAction(served.url, `${path}/stage/actions`, { action: 'release', digest: DIGEST_A }, auth);
    expect([stale.status, stale.json().code]).toEqual([409, 'DIGEST_MISMATCH']);
    expect(fixture.refs()).toBe(before);
    const done = await postAction(served.url, `${path}/stage/actions`, { action: 'release', digest: DIGEST_B }, auth);
    expect(done.status, done.body).toBe(200);
    expect(fixture.git(fixture.remote, 'show', 'stage:deployment/stage/kustomization.yaml')).toContain(DIGEST_B);
    // prod's manual gate: without approve the promotion is refused as `promote` without --approve is.
    const gated = await postAction(served.url, `${path}/prod/actions`, { action: 'release', digest: DIGEST_B }, auth);
    expect([gated.status, gated.json().code]).toEqual([409, 'GATE_MANUAL']);
    const audit = (await probe(`${served.url}api/audit`)).json<Record<string, string>[]>();
    expect(audit.slice(0, 3).map((entry) => [entry.action, entry.environment, entry.outcome, entry.code])).toEqual([
      ['release', 'prod', 'refused', 'GATE_MANUAL'],
      ['release', 'stage', 'done', null],
      ['release', 'stage', 'refused', 'DIGEST_MISMATCH'],
    ]);
    expect(audit[1]).toMatchObject({
      who: expect.stringMatching(/^session:[0-9a-f]{8}$/),
      address: '127.0.0.1',
      digest: DIGEST_B,
    });
    expect(Date.parse(audit[1]?.at ?? '')).toBeGreaterThan(Date.now() - 120_000);
  });

  it('the printed token works once: signing in with it again is refused (401)', async () => {
    const again = await probe(`${served.url}auth?token=${tokenOf(served)}`);
    expect([again.status, again.json().code]).toEqual([401, 'TOKEN_INVALID']);
    expect(again.headers['set-cookie']).toBeUndefined();
  });
});

describe('dashboard API: SHIPWAY_DASHBOARD_TOKEN and binds other than loopback', () => {
  let served: ServedDashboard;
  beforeAll(async () => {
    served = await serve({ allowActions: true, host: '0.0.0.0', token: STANDING });
  });
  afterAll(() => served?.server.close());
  const base = () => `http://127.0.0.1:${new URL(served.url).port}/`;

  it('bound to 0.0.0.0, reading needs the token even from 127.0.0.1 (401), and works with it', async () => {
    expect(served.loopback).toBe(false);
    expect(served.loginUrl).toBeNull();
    const anonymous = await probe(`${base()}api/apps/hello/board`);
    expect([anonymous.status, anonymous.json().code]).toEqual([401, 'UNAUTHENTICATED']);
    expect((await probe(`${base()}api/events`)).status).toBe(401);
    const bearer = await probe(`${base()}api/apps`, { headers: { authorization: `Bearer ${STANDING}` } });
    expect(bearer.status).toBe(200);
    const auth = await signIn(base(), STANDING);
    expect((await probe(`${base()}api/apps`, { headers: { cookie: auth.cookie } })).status).toBe(200);
    // The standing token is the user's own and stays valid (it is not single-use).
    expect((await signIn(base(), STANDING)).csrf).not.toBe(auth.csrf);
  });

  it('a script acts with Authorization: Bearer (no cookie, so no CSRF needed); bad bodies are 400', async () => {
    const headers = { authorization: `Bearer ${STANDING}`, 'content-type': 'application/json' };
    const path = `${base()}api/apps/hello/environments/dev/actions`;
    for (const body of [
      { action: 'rollback' },
      { action: 'rollback', digest: 'sha256:short' },
      { action: 'explode', digest: DIGEST_A },
      { action: 'rollback', digest: DIGEST_A, extra: 1 },
    ]) {
      const answer = await probe(path, { method: 'POST', headers, body: JSON.stringify(body) });
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.json().code).toBe('BAD_INPUT');
    }
    const rolled = await probe(path, {
      method: 'POST',
      headers,
      body: JSON.stringify({ action: 'rollback', digest: DIGEST_A }),
    });
    expect(rolled.status, rolled.body).toBe(200);
    expect(fixture.git(fixture.remote, 'show', 'dev:deployment/dev/kustomization.yaml')).toContain(DIGEST_A);
    const wrong = await probe(path, {
      method: 'POST',
      headers: { ...headers, authorization: 'Bearer wrong' },
      body: JSON.stringify({ action: 'rollback', digest: DIGEST_B }),
    });
    expect(wrong.status).toBe(403);
  });
});

describe('how the server decides "loopback" and which Host headers it accepts', () => {
  it('loopback = localhost, 127.0.0.0/8 and ::1; the wildcards and other addresses are not', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1']) expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '192.168.1.10', 'example.com']) expect(isLoopbackHost(host), host).toBe(false);
  });

  it('Host must carry the bound port and an IP literal or localhost (loopback ones on a loopback bind)', () => {
    const loop = { host: '127.0.0.1', port: 4680 };
    expect(hostAllowed('127.0.0.1:4680', loop)).toBe(true);
    expect(hostAllowed('localhost:4680', loop)).toBe(true);
    expect(hostAllowed('[::1]:4680', loop)).toBe(true);
    expect(hostAllowed('evil.example:4680', loop)).toBe(false);
    expect(hostAllowed('127.0.0.1:80', loop)).toBe(false);
    expect(hostAllowed('10.0.0.5:4680', loop)).toBe(false);
    expect(hostAllowed(undefined, loop)).toBe(false);
    const wild = { host: '0.0.0.0', port: 4680 };
    expect(hostAllowed('10.0.0.5:4680', wild)).toBe(true);
    expect(hostAllowed('evil.example:4680', wild)).toBe(false);
    expect(hostAllowed('ci.internal:4680', wild, ['ci.internal'])).toBe(true);
  });
});

describe('shipway dashboard (the command)', () => {
  it('--json prints {"url": …} and serves until stopped', async () => {
    const child = spawnShipway(fixture.work, ['dashboard', '--json', '--port', '0']);
    try {
      const printed = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout?.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.trim().endsWith('}')) resolve(out);
        });
        child.once('exit', (code) => reject(new Error(`exited ${code}`)));
      });
      const { url, loginUrl, allowActions } = JSON.parse(printed);
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      expect(loginUrl).toMatch(new RegExp(`^${url}auth\\?token=[A-Za-z0-9_-]{43}$`));
      expect(allowActions).toBe(false);
      expect((await probe(`${url}api/apps`)).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
