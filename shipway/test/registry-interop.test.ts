import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../src/adapters/registry/registry-client.js';
import { ExternalError } from '../src/core/errors.js';
import { tokenAuth } from '../src/local/registry/registry-auth.js';
import { createRegistryServer } from '../src/local/registry/registry-server.js';
import { bufferBlob, imageManifest, randomBlob } from './support/blobs.js';
import { type DistributionRegistry, startDistributionRegistry } from './support/distribution-registry.js';
import { startTokenServer, type TokenServer } from './support/token-server.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const MiB = 1024 * 1024;

function collect(): Writable & { bytes(): Buffer } {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
  return Object.assign(sink, { bytes: () => Buffer.concat(chunks) });
}

/** A GET whose path is sent exactly as written (fetch would resolve the `..`). */
function rawGet(host: string, path: string): Promise<unknown> {
  const [hostname, port] = host.split(':');
  return new Promise((resolve, reject) => {
    httpRequest({ hostname, port: Number(port), path }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      response.on('end', () => resolve(JSON.parse(body)));
    })
      .on('error', reject)
      .end();
  });
}

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'shipway-registry-test-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('shipway client ⇄ CNCF distribution registry (Basic auth)', () => {
  let registry: DistributionRegistry;
  beforeAll(async () => {
    registry = await startDistributionRegistry('ci', 'hunter2');
  });
  afterAll(() => registry.stop());

  it('pushes an image monolithically and in chunks, then pulls it back by tag and digest', async () => {
    const client = new RegistryClient(registry.host, {
      credentials: { username: 'ci', password: 'hunter2' },
      chunkSize: MiB,
    });
    const config = bufferBlob(
      Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'),
    );
    const layer = randomBlob(join(work, 'layer-a'), 3 * MiB + 17);
    expect(await client.uploadBlob('team/hello', config)).toBe('uploaded');
    expect(await client.uploadBlob('team/hello', layer)).toBe('uploaded');
    expect(await client.uploadBlob('team/hello', layer)).toBe('exists');
    const manifest = imageManifest(config, layer);
    const digest = await client.putManifest('team/hello', 'v1', manifest, OCI_MANIFEST);
    expect(await client.resolveTag('team/hello', 'v1')).toBe(digest);
    expect(await client.listTags('team/hello')).toEqual(['v1']);
    const fetched = await client.getManifest('team/hello', digest);
    expect(fetched?.bytes.equals(manifest)).toBe(true);
    expect(fetched?.mediaType).toBe(OCI_MANIFEST);
    const sink = collect();
    await client.downloadBlob('team/hello', layer.digest, sink);
    expect(sink.bytes().equals(layer.bytes)).toBe(true);
  });

  it('mounts a blob across repositories instead of uploading it again', async () => {
    const client = new RegistryClient(registry.host, { credentials: { username: 'ci', password: 'hunter2' } });
    const layer = randomBlob(join(work, 'layer-m'), 4096);
    await client.uploadBlob('team/source', layer);
    expect(await client.uploadBlob('team/target', layer, 'team/source')).toBe('mounted');
    expect(await client.blobExists('team/target', layer.digest)).toBe(true);
  });

  it('a refused manifest names the registry\'s error code and detail (spec.md "Error Codes")', async () => {
    const client = new RegistryClient(registry.host, { credentials: { username: 'ci', password: 'hunter2' } });
    const config = bufferBlob(Buffer.from('{"os":"linux"}'));
    const missing = bufferBlob(Buffer.from('never uploaded'));
    await client.uploadBlob('team/refused', config);
    await expect(
      client.putManifest('team/refused', 'v1', imageManifest(config, missing), OCI_MANIFEST),
    ).rejects.toMatchObject({
      code: 'REGISTRY_ERROR',
      message: expect.stringMatching(
        new RegExp(`failed: HTTP 400 blob unknown to registry \\(MANIFEST_BLOB_UNKNOWN: ${missing.digest}\\)`),
      ),
    });
  });

  it('wrong credentials fail with REGISTRY_AUTH and a hint', async () => {
    const client = new RegistryClient(registry.host, { credentials: { username: 'ci', password: 'wrong' } });
    await expect(client.listTags('team/hello')).rejects.toMatchObject({
      code: 'REGISTRY_AUTH',
      message: expect.stringMatching(/^list tags of team\/hello on 127\.0\.0\.1:\d+ failed: HTTP 401/),
      hint: expect.stringContaining('SHIPWAY_REGISTRY_USERNAME'),
    });
  });
});

describe('shipway client ⇄ embedded registry', () => {
  let server: FastifyInstance;
  let host: string;
  let dir: string;
  const requests: { method: string; path: string; bytes?: number }[] = [];
  beforeAll(async () => {
    dir = join(work, 'embedded');
    server = await createRegistryServer({ dir, onRequest: (event) => requests.push(event) });
    host = new URL(await server.listen({ port: 0, host: '127.0.0.1' })).host;
  });
  afterAll(() => server.close());

  it('uploads in chunks no smaller than the minimum chunk size, except the last', async () => {
    const client = new RegistryClient(host, { chunkSize: 256 * 1024, minChunkSize: MiB });
    const layer = randomBlob(join(work, 'layer-c'), Math.round(2.5 * MiB));
    requests.length = 0;
    expect(await client.uploadBlob('chunked', layer)).toBe('uploaded');
    const patches = requests.filter((request) => request.method === 'PATCH').map((request) => request.bytes);
    expect(patches).toEqual([MiB, MiB, layer.size - 2 * MiB]);
    const sink = collect();
    await client.downloadBlob('chunked', layer.digest, sink);
    expect(sink.bytes().equals(layer.bytes)).toBe(true);
  });

  it('mounts across repositories without sending the bytes again', async () => {
    const client = new RegistryClient(host);
    const layer = randomBlob(join(work, 'layer-x'), 100_000);
    await client.uploadBlob('one', layer);
    requests.length = 0;
    expect(await client.uploadBlob('two', layer, 'one')).toBe('mounted');
    expect(requests.filter((request) => request.method === 'PATCH' || request.method === 'PUT')).toEqual([]);
    // A repository that does not hold the blob cannot lend it.
    const other = randomBlob(join(work, 'layer-y'), 10);
    expect(await client.uploadBlob('three', other, 'one')).toBe('uploaded');
  });

  it('rejects content that does not match its digest and keeps no blob', async () => {
    const client = new RegistryClient(host);
    const real = bufferBlob(Buffer.from('the real bytes'));
    const lying = { ...bufferBlob(Buffer.from('other bytes!!!')), digest: real.digest };
    await expect(client.uploadBlob('liar', lying)).rejects.toMatchObject({
      code: 'REGISTRY_ERROR',
      message: expect.stringContaining('HTTP 400 uploaded content does not match digest'),
    });
    expect(await client.blobExists('liar', real.digest)).toBe(false);
    expect(readdirSync(join(dir, 'blobs/sha256'))).not.toContain(real.digest.slice(7));
  });

  it('a broken upload leaves no blob behind', async () => {
    const blob = bufferBlob(Buffer.alloc(64 * 1024, 7));
    const started = await fetch(`http://${host}/v2/broken/blobs/uploads/`, { method: 'POST' });
    const location = started.headers.get('location') ?? '';
    // Declare 64 KiB, send 1 KiB, then drop the connection.
    await new Promise<void>((resolve) => {
      const socket = connect(Number(host.split(':')[1]), '127.0.0.1', () => {
        socket.write(
          `PATCH ${location} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${blob.size}\r\n\r\n`,
        );
        socket.write(blob.bytes.subarray(0, 1024));
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 100);
      });
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const status = await fetch(`http://${host}${location}`);
    expect(status.status).toBe(204);
    expect(status.headers.get('range')).toBe('0-0');
    const finished = await fetch(`http://${host}${location}?digest=${blob.digest}`, { method: 'PUT' });
    expect(finished.status).toBe(400);
    expect(readdirSync(join(dir, 'blobs/sha256'))).not.toContain(blob.digest.slice(7));
  });

  it('verifies digests on download', async () => {
    const client = new RegistryClient(host);
    const layer = bufferBlob(Buffer.from('genuine'));
    await client.uploadBlob('tamper', layer);
    writeFileSync(join(dir, 'blobs/sha256', layer.digest.slice(7)), 'tampered');
    await expect(client.downloadBlob('tamper', layer.digest, collect())).rejects.toMatchObject({
      code: 'DIGEST_MISMATCH',
    });
  });

  it('refuses invalid names, digests and path traversal', async () => {
    for (const [path, code] of [
      ['/v2/UPPER/tags/list', 'NAME_INVALID'],
      ['/v2/a/../../etc/manifests/x', 'NAME_INVALID'],
      ['/v2/ok/blobs/sha256:..%2F..%2Fx', 'DIGEST_INVALID'],
      ['/v2/ok/blobs/sha256:../../x', 'NOT_FOUND'],
      ['/v2/ok%2F..%2F..%2Fetc/tags/list', 'NAME_INVALID'],
      ['/v2/ok/manifests/..%2F..%2Fetc', 'TAG_INVALID'],
    ] as const) {
      expect(await rawGet(host, path), path).toMatchObject({ errors: [{ code }] });
    }
  });

  it('answers an unreachable registry with REGISTRY_UNREACHABLE', async () => {
    const client = new RegistryClient('127.0.0.1:9');
    await expect(client.ping()).rejects.toMatchObject({
      code: 'REGISTRY_UNREACHABLE',
      message: 'cannot reach registry 127.0.0.1:9: ECONNREFUSED',
    });
  });
});

describe('shipway client ⇄ embedded registry with Bearer tokens', () => {
  let server: FastifyInstance;
  let tokens: TokenServer;
  let host: string;
  beforeAll(async () => {
    tokens = await startTokenServer({ secret: 's3cret', service: 'shipway-test', user: 'robot', password: 'pw' });
    server = await createRegistryServer({
      dir: join(work, 'bearer'),
      auth: tokenAuth({ realm: tokens.realm, service: 'shipway-test', secret: 's3cret' }),
    });
    host = new URL(await server.listen({ port: 0, host: '127.0.0.1' })).host;
  });
  afterAll(async () => {
    await server.close();
    await tokens.close();
  });

  it('follows the challenge to the token service and pushes and pulls with repository-scoped tokens', async () => {
    const client = new RegistryClient(host, { credentials: { username: 'robot', password: 'pw' } });
    const config = bufferBlob(Buffer.from('{}'));
    const layer = bufferBlob(Buffer.from('layer'));
    await client.uploadBlob('secure/app', config);
    await client.uploadBlob('secure/app', layer);
    const digest = await client.putManifest('secure/app', 'v1', imageManifest(config, layer), OCI_MANIFEST);
    expect(await client.resolveTag('secure/app', 'v1')).toBe(digest);
    expect(tokens.issued.map((entry) => entry.scope.join(' '))).toEqual(
      expect.arrayContaining(['repository:secure/app:pull', 'repository:secure/app:pull,push']),
    );
  });

  it('without credentials the token service refuses and the client says so', async () => {
    const client = new RegistryClient(host);
    await expect(client.listTags('secure/app')).rejects.toMatchObject({ code: 'REGISTRY_AUTH' });
  });

  it('a forged token is refused by the registry', async () => {
    const { signToken } = await import('./support/token-server.js');
    const forged = signToken('not-the-secret', {
      access: [{ type: 'repository', name: 'secure/app', actions: ['pull'] }],
    });
    const response = await fetch(`http://${host}/v2/secure/app/tags/list`, {
      headers: { authorization: `Bearer ${forged}` },
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('scope="repository:secure/app:pull"');
  });
});

describe('shipway client ⇄ a registry whose error bodies are not the OCI shape', () => {
  // spec.md "Error Codes": a 4XX body MAY be in any format; only a JSON one has the errors shape.
  let server: Server;
  let host: string;
  let answer = { status: 500, type: 'text/plain', body: '' };
  beforeAll(async () => {
    server = createServer((request, response) => {
      request.resume();
      response.writeHead(answer.status, { 'content-type': answer.type });
      response.end(answer.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    host = `127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const listTagsError = async (status: number, type: string, body: string) => {
    answer = { status, type, body };
    const error = await new RegistryClient(host).listTags('app').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ExternalError);
    return error as ExternalError;
  };

  it('a body that is not JSON: the HTTP status and its text, on one line', async () => {
    const error = await listTagsError(502, 'text/html', '<html>\n<h1>502 Bad Gateway</h1>\n</html>\n');
    expect(error.code).toBe('REGISTRY_ERROR');
    expect(error.message).toBe(`list tags of app on ${host} failed: HTTP 502 <html> <h1>502 Bad Gateway</h1> </html>`);
  });

  it('JSON of another shape: the HTTP status and the body as it came', async () => {
    const error = await listTagsError(403, 'application/json', '{"details":"incorrect username or password"}');
    expect(error.code).toBe('REGISTRY_AUTH');
    expect(error.message).toBe(
      `list tags of app on ${host} failed: HTTP 403 {"details":"incorrect username or password"}`,
    );
  });

  it('an OCI body: every error, with quotes in the message intact and control characters removed', async () => {
    const body = JSON.stringify({
      errors: [
        { code: 'DENIED', message: 'repository "app" is \u001b[31mlocked\u001b[0m' },
        { code: 'UNAUTHORIZED', message: '', detail: [{ Type: 'repository', Name: 'app', Action: 'pull' }] },
      ],
    });
    const error = await listTagsError(403, 'application/json', body);
    expect(error.message).toBe(
      `list tags of app on ${host} failed: HTTP 403 repository "app" is [31mlocked [0m (DENIED); UNAUTHORIZED: [{"Type":"repository","Name":"app","Action":"pull"}]`,
    );
  });

  it('an empty body: the HTTP status alone', async () => {
    const error = await listTagsError(500, 'text/plain', '');
    expect(error.message).toBe(`list tags of app on ${host} failed: HTTP 500`);
  });
});
