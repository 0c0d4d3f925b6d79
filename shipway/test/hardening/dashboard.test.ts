import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_STREAMS_PER_ADDRESS } from '../../src/adapters/dashboard-http/event-streams.js';
import { type ServedDashboard, serveDashboard } from '../../src/app/dashboard/serve-dashboard.js';
import { createGitFixture, DIGEST_A, DIGEST_B, type GitFixture } from '../support/git-fixture.js';
import { postAction, probe, signIn } from '../support/http-probe.js';
import { shipway } from '../support/run-shipway.js';

// Attacker probes against `shipway dashboard --allow-actions` on 127.0.0.1: DNS rebinding,
// cross-origin POSTs, a replayed or guessed token, oversized bodies, path traversal through the
// log endpoint, and a flood of event streams. Each must be refused and change nothing.
let fixture: GitFixture;
let served: ServedDashboard;
let base: string;
let port: string;
let auth: { cookie: string; csrf: string };
let token: string;
const image = (tag: string, digest: string) => `127.0.0.1:5000/hello:${tag}@${digest}`;
const ACTION = 'api/apps/hello/environments/stage/actions';

beforeAll(async () => {
  fixture = createGitFixture();
  for (const argv of [
    ['promote', 'dev', '--image', image('v1', DIGEST_A)],
    ['promote', 'stage', '--from', 'dev'],
    ['promote', 'dev', '--image', image('v2', DIGEST_B)],
  ])
    expect((await shipway(fixture.work, argv)).code).toBe(0);
  const runDir = join(fixture.work, '.shipway', 'runs', '7-dev');
  mkdirSync(runDir, { recursive: true });
  writeFileSync(join(fixture.root, 'secret.txt'), 'TOP SECRET');
  symlinkSync(join(fixture.root, 'secret.txt'), join(runDir, 'linked.log'));
  writeFileSync(
    join(runDir, 'pipeline.json'),
    JSON.stringify({
      version: 1,
      id: 7,
      ref: 'dev',
      sha: 'a'.repeat(40),
      created: true,
      reason: null,
      status: 'success',
      startedAt: '2024-01-01T00:00:00Z',
      finishedAt: null,
      ms: null,
      jobs: [
        {
          name: 'evil',
          stage: 'x',
          status: 'success',
          startedAt: null,
          finishedAt: null,
          ms: null,
          log: '../../../../secret.txt',
        },
        {
          name: 'linked',
          stage: 'x',
          status: 'success',
          startedAt: null,
          finishedAt: null,
          ms: null,
          log: 'linked.log',
        },
      ],
    }),
  );
  served = await serveDashboard(
    { cwd: fixture.work, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' }, progress: () => {} },
    { host: '127.0.0.1', port: 0, allowActions: true },
  );
  base = served.url;
  port = new URL(base).port;
  token = new URL(served.loginUrl ?? '').searchParams.get('token') ?? '';
  auth = await signIn(base, token);
}, 120_000);

afterAll(async () => {
  await served?.server.close();
  fixture?.cleanup();
});

const body = JSON.stringify({ action: 'release', digest: DIGEST_B });

describe('dashboard hardening: DNS rebinding', () => {
  it('a request whose Host is another name (a rebound DNS name) is refused, reads and actions alike', async () => {
    // (An empty Host is replaced by node's client with the real one, so it is not probed here.)
    for (const host of [
      `attacker.example:${port}`,
      `127.0.0.1.nip.io:${port}`,
      `localhost:1`,
      'localhost',
      `[::ffff:7f00:1]x:${port}`,
    ]) {
      const read = await probe(`${base}api/apps`, { headers: { host } });
      expect(read.status, host).toBe(403);
    }
    const before = fixture.refs();
    const act = await probe(`${base}${ACTION}`, {
      method: 'POST',
      headers: {
        host: `attacker.example:${port}`,
        'content-type': 'application/json',
        cookie: auth.cookie,
        'x-csrf-token': auth.csrf,
        origin: `http://attacker.example:${port}`,
      },
      body,
    });
    expect(act.status).toBe(403);
    expect(fixture.refs()).toBe(before);
    expect((await probe(`${base}api/apps`, { headers: { host: `localhost:${port}` } })).status).toBe(200);
  });
});

describe('dashboard hardening: cross-origin POSTs', () => {
  it("another origin with the victim's cookie and even the CSRF token is refused (Origin check)", async () => {
    const before = fixture.refs();
    for (const headers of [
      { origin: 'http://attacker.example' },
      { origin: 'null' },
      {},
      { origin: base.slice(0, -1), 'sec-fetch-site': 'cross-site' },
    ]) {
      const answer = await probe(`${base}${ACTION}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie: auth.cookie, 'x-csrf-token': auth.csrf, ...headers },
        body,
      });
      expect([answer.status, answer.json().code], JSON.stringify(headers)).toEqual([403, 'CROSS_ORIGIN']);
    }
    expect(fixture.refs()).toBe(before);
  });

  it('a form post (what a cross-site page can send without CORS) is refused before it is read', async () => {
    const before = fixture.refs();
    for (const type of ['application/x-www-form-urlencoded', 'text/plain', 'multipart/form-data; boundary=x']) {
      const answer = await probe(`${base}${ACTION}`, {
        method: 'POST',
        headers: { 'content-type': type, cookie: auth.cookie, origin: base.slice(0, -1) },
        body: 'action=release&digest=x',
      });
      expect(answer.status, type).toBeGreaterThanOrEqual(400);
      expect(answer.status).toBeLessThan(500);
    }
    expect(fixture.refs()).toBe(before);
  });

  it('the session cookie is HttpOnly and SameSite=Strict; answers carry a strict CSP without inline scripts', async () => {
    const fresh = await serveDashboard(
      {
        cwd: fixture.work,
        env: { PATH: process.env.PATH ?? '', SHIPWAY_DASHBOARD_TOKEN: 'x'.repeat(32) },
        progress: () => {},
      },
      { host: '127.0.0.1', port: 0, allowActions: true },
    );
    try {
      const answer = await probe(`${fresh.url}auth?token=${'x'.repeat(32)}`);
      expect(answer.headers['set-cookie']?.[0]).toMatch(
        /^shipway_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/,
      );
      expect(answer.headers.location).toBe('/');
      expect(answer.headers['referrer-policy']).toBe('no-referrer');
    } finally {
      await fresh.server.close();
    }
    const page = await probe(base);
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.body).not.toContain('<script>');
    expect(page.body).not.toContain(token);
  });
});

describe('dashboard hardening: tokens', () => {
  it('the one-time token cannot be replayed', async () => {
    const replay = await probe(`${base}auth?token=${token}`);
    expect(replay.status).toBe(401);
    const viaApi = await probe(`${base}api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
    });
    expect(viaApi.status).toBe(401);
  });

  it('guessing is rate-limited: after 5 wrong tokens from one address every attempt is 429, right or wrong', async () => {
    const fresh = await serveDashboard(
      {
        cwd: fixture.work,
        env: { PATH: process.env.PATH ?? '', SHIPWAY_DASHBOARD_TOKEN: 'y'.repeat(32) },
        progress: () => {},
      },
      { host: '127.0.0.1', port: 0, allowActions: true },
    );
    try {
      const statuses: number[] = [];
      for (let attempt = 0; attempt < 7; attempt += 1)
        statuses.push((await probe(`${fresh.url}auth?token=guess${attempt}`)).status);
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
      expect((await probe(`${fresh.url}auth?token=${'y'.repeat(32)}`)).status).toBe(429);
    } finally {
      await fresh.server.close();
    }
  });
});

describe('dashboard hardening: bodies and paths', () => {
  it('a body over 16 KiB is refused with 413 and changes nothing', async () => {
    const before = fixture.refs();
    const answer = await postAction(
      base,
      ACTION,
      { action: 'release', digest: DIGEST_B, pad: 'x'.repeat(20_000) },
      auth,
    );
    expect(answer.status).toBe(413);
    expect(fixture.refs()).toBe(before);
  });

  it('log and file endpoints never leave .shipway/runs: traversal in run, job or a record, and symlinks out', async () => {
    for (const path of [
      'api/apps/hello/pipelines/..%2F..%2F..%2Fetc/jobs/x/log',
      'api/apps/hello/pipelines/7-dev/jobs/..%2F..%2F..%2F..%2Fetc%2Fpasswd/log',
      'api/apps/hello/pipelines/7-dev/jobs/evil/log',
      'api/apps/hello/pipelines/7-dev/jobs/linked/log',
      'assets/..%2F..%2Fpackage.json',
      'assets/../../package.json',
    ]) {
      const answer = await probe(`${base}${path}`);
      expect([400, 404], `${path}: ${answer.status} ${answer.body}`).toContain(answer.status);
      expect(answer.body).not.toContain('TOP SECRET');
      expect(answer.body).not.toContain('root:');
    }
  });
});

describe('dashboard hardening: event stream floods', () => {
  it(`past ${MAX_STREAMS_PER_ADDRESS} streams from one address the rest get 429, and the server keeps answering`, async () => {
    const opened: { status: number; close: () => void }[] = [];
    const open = () =>
      new Promise<{ status: number; close: () => void }>((resolve, reject) => {
        const req = request(`${base}api/events`, (res) => {
          resolve({ status: res.statusCode ?? 0, close: () => req.destroy() });
          if (res.statusCode !== 200) res.resume();
        });
        req.on('error', reject);
        req.end();
      });
    try {
      for (let i = 0; i < MAX_STREAMS_PER_ADDRESS + 4; i += 1) opened.push(await open());
      const statuses = opened.map((entry) => entry.status);
      expect(statuses.filter((status) => status === 200)).toHaveLength(MAX_STREAMS_PER_ADDRESS);
      expect(statuses.filter((status) => status === 429)).toHaveLength(4);
      expect((await probe(`${base}api/apps`)).status).toBe(200);
    } finally {
      for (const entry of opened) entry.close();
    }
    // Closed streams free their places.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const again = await open();
    expect(again.status).toBe(200);
    again.close();
  });
});
