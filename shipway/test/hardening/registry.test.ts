import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
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
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/adapters/registry/registry-client.js';
import { isLoopbackHost } from '../../src/core/loopback-host.js';
import { tokenAuth } from '../../src/local/registry/registry-auth.js';
import { createRegistryServer, type RegistryServerOptions } from '../../src/local/registry/registry-server.js';
import { bufferBlob, imageManifest } from '../support/blobs.js';
import { waitFor } from '../support/free-port.js';
import { holdRequest } from '../support/held-request.js';
import { shipway } from '../support/run-shipway.js';
import { runUntilListening } from '../support/run-until-listening.js';
import { startRegistryProcess } from '../support/start-registry-process.js';
import { signToken } from '../support/token-server.js';

// Probes of the embedded registry (`shipway registry serve`). The rules come from the OCI
// distribution spec (spec.md) and the CNCF distribution registry (registry/handlers/*.go).

const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const OCTETS = { 'content-type': 'application/octet-stream' };

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'shipway-registry-hardening-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Running {
  readonly server: FastifyInstance;
  readonly host: string;
  readonly base: string;
  readonly dir: string;
  readonly seen: { method: string; path: string }[];
}

async function listen(name: string, options: Partial<RegistryServerOptions> = {}): Promise<Running> {
  const dir = join(work, name);
  const seen: Running['seen'] = [];
  const server = await createRegistryServer({ dir, onRequest: (event) => seen.push(event), ...options });
  const host = new URL(await server.listen({ port: 0, host: '127.0.0.1' })).host;
  return { server, host, base: `http://${host}`, dir, seen };
}

async function startUpload(base: string, repo: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${base}/v2/${repo}/blobs/uploads/`, { method: 'POST', headers });
  expect(response.status).toBe(202);
  return { location: response.headers.get('location') ?? '', id: response.headers.get('docker-upload-uuid') ?? '' };
}

function patch(base: string, location: string, body: Buffer, range: string) {
  return fetch(`${base}${location}`, { method: 'PATCH', headers: { ...OCTETS, 'content-range': range }, body });
}

/** Every file under blobs/sha256 must hold exactly the bytes its name is the digest of. */
function expectBlobsMatchNames(dir: string) {
  const names = readdirSync(join(dir, 'blobs/sha256'));
  for (const name of names) {
    expect(sha256(readFileSync(join(dir, 'blobs/sha256', name))), `blobs/sha256/${name}`).toBe(`sha256:${name}`);
  }
  return names.length;
}

describe('one writer per upload session (spec.md "Pushing a blob in chunks"; blobupload.go PatchBlobData)', () => {
  let registry: Running;
  beforeAll(async () => {
    registry = await listen('race');
  });
  afterAll(() => registry.server.close());

  /**
   * `writers` PATCHes with the same Content-Range 0-<n> on one session, all in flight before any
   * sends a byte. One may win; the others get 416 with the current Range. The winner's bytes, and
   * only those, become the blob.
   */
  async function raceRound(writers: number) {
    const CHUNK = 128 * 1024;
    const { location } = await startUpload(registry.base, 'race');
    const bodies = Array.from({ length: writers }, () => randomBytes(CHUNK));
    const arrived = () => registry.seen.filter((event) => event.method === 'PATCH' && event.path === location).length;
    const held = bodies.map(() =>
      holdRequest(registry.host, 'PATCH', location, {
        ...OCTETS,
        'content-range': `0-${CHUNK - 1}`,
        'content-length': String(CHUNK),
      }),
    );
    await waitFor(async () => arrived() === writers, 'every PATCH to reach the registry');
    await sleep(10);
    const responses = await Promise.all(held.map((request, i) => request.release(bodies[i] ?? Buffer.alloc(0))));
    const accepted = responses.flatMap((response, i) => (response.status === 202 ? [i] : []));
    expect(accepted.length, `statuses ${responses.map((r) => r.status).join(',')}`).toBeLessThanOrEqual(1);
    for (const response of responses.filter((r) => r.status !== 202)) {
      expect(response.status).toBe(416);
      expect(response.headers.range).toMatch(/^0-\d+$/);
    }
    const winner = accepted[0] === undefined ? undefined : bodies[accepted[0]];
    const status = await fetch(`${registry.base}${location}`);
    expect(status.headers.get('range')).toBe(winner === undefined ? '0-0' : `0-${CHUNK - 1}`);
    if (winner === undefined) return 0;
    const put = await fetch(`${registry.base}${location}?digest=${sha256(winner)}`, { method: 'PUT' });
    expect(put.status).toBe(201);
    const stored = Buffer.from(await (await fetch(`${registry.base}/v2/race/blobs/${sha256(winner)}`)).arrayBuffer());
    expect(stored.equals(winner)).toBe(true);
    return 1;
  }

  for (const writers of [2, 4]) {
    it(`${writers} concurrent PATCHes with one Content-Range, 20 rounds: at most one accepted, every blob is its digest`, async () => {
      let won = 0;
      for (let round = 0; round < 20; round++) won += await raceRound(writers);
      console.log(`${writers} writers: a PATCH was accepted in ${won} of 20 rounds`);
      expect(won).toBeGreaterThan(0);
      expect(expectBlobsMatchNames(registry.dir)).toBeGreaterThanOrEqual(won);
    }, 120_000);
  }

  it('a PATCH that does not start at the current size gets 416 with the current Range', async () => {
    const { location } = await startUpload(registry.base, 'order');
    expect((await patch(registry.base, location, Buffer.alloc(10, 1), '0-9')).status).toBe(202);
    for (const range of ['0-9', '20-29', '5-14']) {
      const refused = await patch(registry.base, location, Buffer.alloc(10, 2), range);
      expect(refused.status, range).toBe(416);
      expect(refused.headers.get('range')).toBe('0-9');
    }
    expect((await patch(registry.base, location, Buffer.alloc(10, 3), '10-19')).status).toBe(202);
  });

  it('a closing PUT while a PATCH is still writing is refused with 416, and the upload goes on', async () => {
    const { location } = await startUpload(registry.base, 'busy');
    const body = randomBytes(1000);
    const before = registry.seen.length;
    const held = holdRequest(registry.host, 'PATCH', location, { ...OCTETS, 'content-length': '1000' });
    await waitFor(async () => registry.seen.slice(before).some((e) => e.method === 'PATCH'), 'the PATCH to arrive');
    await sleep(10);
    const early = await fetch(`${registry.base}${location}?digest=${sha256(body)}`, { method: 'PUT' });
    expect(early.status).toBe(416);
    expect(early.headers.get('range')).toBe('0-0');
    expect((await held.release(body)).status).toBe(202);
    expect((await fetch(`${registry.base}${location}?digest=${sha256(body)}`, { method: 'PUT' })).status).toBe(201);
  });

  it('the closing PUT checks the digest of the bytes on disk, not only the running hash', async () => {
    const { location, id } = await startUpload(registry.base, 'disk');
    const sent = Buffer.from('bytes the client sent');
    expect((await patch(registry.base, location, sent, `0-${sent.length - 1}`)).status).toBe(202);
    // What is on disk changed under the session (a second writer, a disk fault, a local user).
    writeFileSync(join(registry.dir, 'uploads', id), Buffer.from('bytes that are stored!'));
    const put = await fetch(`${registry.base}${location}?digest=${sha256(sent)}`, { method: 'PUT' });
    expect(put.status).toBe(400);
    expect(await put.json()).toMatchObject({ errors: [{ code: 'DIGEST_INVALID' }] });
    expect(existsSync(join(registry.dir, 'blobs/sha256', sha256(sent).slice(7)))).toBe(false);
  });

  it('finishing an upload of a blob that exists never replaces the stored file', async () => {
    const bytes = Buffer.from('stored once');
    const digest = sha256(bytes);
    const first = await fetch(`${registry.base}/v2/once/blobs/uploads/?digest=${digest}`, {
      method: 'POST',
      body: bytes,
    });
    expect(first.status).toBe(201);
    const path = join(registry.dir, 'blobs/sha256', digest.slice(7));
    const inode = statSync(path).ino;
    for (const repo of ['once', 'again']) {
      const { location } = await startUpload(registry.base, repo);
      const put = await fetch(`${registry.base}${location}?digest=${digest}`, { method: 'PUT', body: bytes });
      expect(put.status).toBe(201);
      expect(statSync(path).ino, `upload to ${repo} replaced the blob file`).toBe(inode);
    }
    expect((await fetch(`${registry.base}/v2/again/blobs/${digest}`, { method: 'HEAD' })).status).toBe(200);
  });
});

describe('ranges and tag pagination', () => {
  let registry: Running;
  beforeAll(async () => {
    registry = await listen('ranges');
  });
  afterAll(() => registry.server.close());

  it('a Content-Range that ends before it starts, or disagrees with Content-Length, changes nothing', async () => {
    const { location } = await startUpload(registry.base, 'ranges');
    expect((await patch(registry.base, location, Buffer.alloc(10, 1), '0-9')).status).toBe(202);
    // blobupload.go PatchBlobData: `start > end` is RANGE_INVALID (416).
    const backwards = await patch(registry.base, location, Buffer.alloc(4, 2), '10-5');
    expect(backwards.status).toBe(416);
    expect(backwards.headers.get('range')).toBe('0-9');
    // ...and a Content-Length other than end-start+1 is SIZE_INVALID (400).
    const short = await patch(registry.base, location, Buffer.alloc(5, 2), '10-19');
    expect(short.status).toBe(400);
    expect(await short.json()).toMatchObject({ errors: [{ code: 'SIZE_INVALID' }] });
    // spec.md: a final chunk sent with the PUT out of order is 416 too.
    const all = Buffer.concat([Buffer.alloc(10, 1), Buffer.alloc(5, 3)]);
    const put = await fetch(`${registry.base}${location}?digest=${sha256(all)}`, {
      method: 'PUT',
      headers: { ...OCTETS, 'content-range': '0-4' },
      body: Buffer.alloc(5, 3),
    });
    expect(put.status).toBe(416);
    expect((await fetch(`${registry.base}${location}`)).headers.get('range')).toBe('0-9');
    const done = await fetch(`${registry.base}${location}?digest=${sha256(all)}`, {
      method: 'PUT',
      headers: { ...OCTETS, 'content-range': '10-14' },
      body: Buffer.alloc(5, 3),
    });
    expect(done.status).toBe(201);
  });

  it('tags/list: n=0 is empty, negative or non-numeric n and a last that is no tag are 400 (tags.go GetTags)', async () => {
    const client = new RegistryClient(registry.host);
    const config = bufferBlob(Buffer.from('{}'));
    const layer = bufferBlob(Buffer.from('layer'));
    await client.uploadBlob('paged', config);
    await client.uploadBlob('paged', layer);
    for (const tag of ['c', 'a', 'b'])
      await client.putManifest(
        'paged',
        tag,
        imageManifest(config, layer),
        'application/vnd.oci.image.manifest.v1+json',
      );
    const list = async (query: string) => {
      const response = await fetch(`${registry.base}/v2/paged/tags/list?${query}`);
      return { status: response.status, body: await response.json() };
    };
    expect(await list('')).toEqual({ status: 200, body: { name: 'paged', tags: ['a', 'b', 'c'] } });
    expect(await list('n=0')).toEqual({ status: 200, body: { name: 'paged', tags: [] } });
    expect(await list('n=2')).toEqual({ status: 200, body: { name: 'paged', tags: ['a', 'b'] } });
    expect(await list('n=2&last=a')).toEqual({ status: 200, body: { name: 'paged', tags: ['b', 'c'] } });
    for (const bad of ['n=-1', 'n=abc', 'n=1.5', 'n=2x']) {
      expect(await list(bad), bad).toMatchObject({
        status: 400,
        body: { errors: [{ code: 'PAGINATION_NUMBER_INVALID' }] },
      });
    }
    for (const bad of ['last=..%2F..%2Fetc', 'last=.hidden', 'n=1&last=a%20b']) {
      expect(await list(bad), bad).toMatchObject({ status: 400, body: { errors: [{ code: 'TAG_INVALID' }] } });
    }
  });
});

describe('cross-repository mounts need pull on the source (app.go authorized; spec.md "Mounting a blob")', () => {
  let registry: Running;
  const token = (access: Record<string, string[]>) =>
    `Bearer ${signToken('s3cret', {
      aud: 'svc',
      exp: Math.floor(Date.now() / 1000) + 300,
      access: Object.entries(access).map(([name, actions]) => ({ type: 'repository', name, actions })),
    })}`;
  beforeAll(async () => {
    registry = await listen('mounts', {
      auth: tokenAuth({ realm: 'http://127.0.0.1:9/token', service: 'svc', secret: 's3cret' }),
    });
  });
  afterAll(() => registry.server.close());

  it('without pull on `from` the POST starts an ordinary upload (202) and mounts nothing', async () => {
    const secret = Buffer.from('only team-a may read this layer');
    const digest = sha256(secret);
    const pushed = await fetch(`${registry.base}/v2/team-a/app/blobs/uploads/?digest=${digest}`, {
      method: 'POST',
      headers: { authorization: token({ 'team-a/app': ['pull', 'push'] }) },
      body: secret,
    });
    expect(pushed.status).toBe(201);
    const mountAs = async (access: Record<string, string[]>) => {
      const authorization = token(access);
      const response = await fetch(`${registry.base}/v2/team-b/app/blobs/uploads/?mount=${digest}&from=team-a/app`, {
        method: 'POST',
        headers: { authorization },
      });
      const head = await fetch(`${registry.base}/v2/team-b/app/blobs/${digest}`, {
        method: 'HEAD',
        headers: { authorization },
      });
      return { status: response.status, location: response.headers.get('location'), visible: head.status };
    };
    for (const access of [
      { 'team-b/app': ['pull', 'push'] },
      { 'team-b/app': ['pull', 'push'], 'team-a/app': ['push'] },
    ]) {
      expect(await mountAs(access), JSON.stringify(access)).toEqual({
        status: 202,
        location: expect.stringMatching(/^\/v2\/team-b\/app\/blobs\/uploads\/[0-9a-f]{32}$/),
        visible: 404,
      });
    }
    expect(await mountAs({ 'team-b/app': ['pull', 'push'], 'team-a/app': ['pull'] })).toEqual({
      status: 201,
      location: `/v2/team-b/app/blobs/${digest}`,
      visible: 200,
    });
  });
});

describe('unfinished uploads expire; crash leftovers are removed at start', () => {
  it('an upload idle longer than uploadTtlMs is gone with its file; one in use stays', async () => {
    const registry = await listen('ttl', { uploadTtlMs: 1000 });
    const cleanups: (() => void)[] = [];
    try {
      const idle = await startUpload(registry.base, 'ttl');
      expect((await patch(registry.base, idle.location, Buffer.alloc(10), '0-9')).status).toBe(202);
      // A writer that sends its headers and then nothing: its socket is dropped after the TTL,
      // which ends its claim, and the session then expires like any idle one.
      const stalled = await startUpload(registry.base, 'ttl');
      const stalledWriter = holdRequest(registry.host, 'PATCH', stalled.location, {
        ...OCTETS,
        'content-length': '100',
      });
      cleanups.push(() => stalledWriter.abort());
      const busy = await startUpload(registry.base, 'ttl');
      for (let i = 0; i < 10; i++) {
        expect((await patch(registry.base, busy.location, Buffer.from([i]), `${i}-${i}`)).status).toBe(202);
        await sleep(250);
      }
      const gone = await fetch(`${registry.base}${idle.location}`);
      expect(gone.status).toBe(404);
      expect(await gone.json()).toMatchObject({ errors: [{ code: 'BLOB_UPLOAD_UNKNOWN' }] });
      const put = await fetch(`${registry.base}${idle.location}?digest=${sha256(Buffer.alloc(10))}`, { method: 'PUT' });
      expect(put.status).toBe(404);
      expect((await fetch(`${registry.base}${busy.location}`)).headers.get('range')).toBe('0-9');
      await waitFor(async () => !readdirSync(join(registry.dir, 'uploads')).includes(idle.id), 'the idle file to go');
      const stalledGone = async () => (await fetch(`${registry.base}${stalled.location}`)).status === 404;
      await waitFor(stalledGone, 'the stalled upload to expire', 10_000);
      await waitFor(async () => readdirSync(join(registry.dir, 'uploads')).length === 1, 'the stalled file to go');
      expect(readdirSync(join(registry.dir, 'uploads'))).toEqual([busy.id]);
    } finally {
      for (const cleanup of cleanups) cleanup();
      await registry.server.close();
    }
  });

  it('`registry serve --upload-ttl 1s` drops an idle upload; a bad duration is a usage error', async () => {
    const served = await startRegistryProcess(join(work, 'ttl-cli'), ['--upload-ttl', '1s']);
    try {
      const { location, id } = await startUpload(`http://${served.host}`, 'cli');
      expect((await fetch(`http://${served.host}${location}`)).status).toBe(204);
      await waitFor(async () => (await fetch(`http://${served.host}${location}`)).status === 404, 'expiry', 10_000);
      await waitFor(async () => !existsSync(join(work, 'ttl-cli/uploads', id)), 'the upload file to go');
    } finally {
      await served.stop();
    }
    for (const bad of ['soon', '0s']) {
      const run = await shipway(work, [
        'registry',
        'serve',
        '--port',
        '0',
        '--dir',
        join(work, 'x'),
        '--upload-ttl',
        bad,
      ]);
      expect(run.code, bad).toBe(2);
      expect(run.stderr).toMatch(
        /^shipway: (invalid duration "soon"|--upload-ttl must be longer than 0, got 0s)\n {2}hint: /,
      );
    }
  });

  it('at start, upload files and temp files of dead writers go; a live writer’s temp file and real tags stay', async () => {
    const dir = join(work, 'leftovers');
    const dead = await new Promise<number>((resolve) => {
      const child = spawn('true');
      child.once('exit', () => resolve(child.pid ?? 0));
    });
    const live: ChildProcess = spawn('sleep', ['30']);
    const tags = join(dir, 'repositories/app/_manifests/tags');
    const digest = sha256(Buffer.from('x'));
    const files = {
      upload: join(dir, 'uploads', 'a'.repeat(32)),
      blobTemp: join(dir, 'blobs/sha256', `.${'b'.repeat(64)}.tmp-${dead}-0123abcd`),
      legacyTagTemp: join(tags, `v1.tmp-${dead}-89abcdef`),
      liveTemp: join(tags, `.v2.tmp-${live.pid}-00000000`),
      tag: join(tags, 'v1'),
    };
    for (const path of Object.values(files)) {
      mkdirSync(join(path, '..'), { recursive: true });
      writeFileSync(path, digest);
    }
    try {
      const registry = await createRegistryServer({ dir });
      await registry.close();
      expect(Object.fromEntries(Object.entries(files).map(([name, path]) => [name, existsSync(path)]))).toEqual({
        upload: false,
        blobTemp: false,
        legacyTagTemp: false,
        liveTemp: true,
        tag: true,
      });
    } finally {
      live.kill();
    }
  });
});

describe('`registry serve --host`: never an open registry on the network', () => {
  it('a non-loopback --host without --htpasswd is a usage error (exit 2, one line and a hint)', async () => {
    for (const host of ['0.0.0.0', '::']) {
      const outcome = await runUntilListening(work, [
        'registry',
        'serve',
        '--port',
        '0',
        '--dir',
        join(work, 'h'),
        '--host',
        host,
      ]);
      expect(outcome.code, `--host ${host} ${outcome.stdout}`).toBe(2);
      expect(outcome.stderr).toBe(
        `shipway: refusing to serve the registry on ${host} without authentication\n` +
          '  hint: add --htpasswd <file> (bcrypt entries, htpasswd -B), or listen on a loopback address such as --host 127.0.0.1\n',
      );
    }
  });

  it('with --htpasswd it listens on 0.0.0.0; loopback addresses need nothing', async () => {
    writeFileSync(join(work, 'htpasswd'), `ci:${bcrypt.hashSync('pw', 5)}\n`);
    const withAuth = await runUntilListening(work, [
      ...['registry', 'serve', '--port', '0', '--dir', join(work, 'h'), '--json'],
      ...['--host', '0.0.0.0', '--htpasswd', join(work, 'htpasswd')],
    ]);
    expect(withAuth.code, withAuth.stderr).toBeNull();
    expect(JSON.parse(withAuth.stdout)).toEqual({ url: expect.stringMatching(/^http:\/\//) });
    for (const host of [
      '127.0.0.1',
      '127.1.2.3',
      '127.1',
      'localhost',
      'LocalHost',
      '::1',
      '0:0:0:0:0:0:0:1',
      '::ffff:127.0.0.1',
    ])
      expect(isLoopbackHost(host), host).toBe(true);
    for (const host of [
      '0.0.0.0',
      '::',
      '10.0.0.1',
      '::ffff:10.0.0.1',
      'example.com',
      '127.0.0.1.nip.io',
      '',
      '127.0.0.1:80',
    ])
      expect(isLoopbackHost(host), host).toBe(false);
  });
});
