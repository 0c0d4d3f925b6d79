import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { pack } from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pullAndUnpack } from '../src/adapters/image/unpack-image.js';
import { RegistryClient } from '../src/adapters/registry/registry-client.js';
import { createRegistryServer } from '../src/local/registry/registry-server.js';
import { bufferBlob, type TestBlob } from './support/blobs.js';

type Entry =
  | { name: string; body: string; mode?: number }
  | { name: string; dir: true }
  | { name: string; symlink: string };

async function layer(entries: Entry[]): Promise<TestBlob> {
  const tar = pack();
  for (const entry of entries) {
    if ('body' in entry) tar.entry({ name: entry.name, mode: entry.mode ?? 0o644 }, entry.body);
    else if ('dir' in entry) tar.entry({ name: entry.name, type: 'directory', mode: 0o755 });
    else tar.entry({ name: entry.name, type: 'symlink', linkname: entry.symlink });
  }
  tar.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of tar) chunks.push(Buffer.from(chunk as Uint8Array));
  return bufferBlob(gzipSync(Buffer.concat(chunks)));
}

let server: FastifyInstance;
let client: RegistryClient;
let work: string;

async function push(tag: string, layers: TestBlob[]): Promise<void> {
  const config = bufferBlob(Buffer.from(JSON.stringify({ config: { Cmd: ['node', 'main.js'], WorkingDir: '/app' } })));
  for (const blob of [config, ...layers]) await client.uploadBlob('layered', blob);
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.size },
    layers: layers.map((blob) => ({
      mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
      digest: blob.digest,
      size: blob.size,
    })),
  };
  await client.putManifest(
    'layered',
    tag,
    Buffer.from(JSON.stringify(manifest)),
    'application/vnd.oci.image.manifest.v1+json',
  );
}

// A base (with a relative /bin symlink, a file later deleted, a directory later made opaque), a
// dependency layer with a node_modules package, and two different app layers on top of both.
let base: TestBlob;
let deps: TestBlob;
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'shipway-unpack-'));
  server = await createRegistryServer({ dir: join(work, 'registry') });
  client = new RegistryClient(new URL(await server.listen({ port: 0, host: '127.0.0.1' })).host);
  base = await layer([
    { name: 'usr/bin/', dir: true },
    { name: 'usr/bin/tool', body: 'base tool', mode: 0o755 },
    { name: 'bin', symlink: 'usr/bin' },
    { name: 'etc/gone', body: 'deleted by a whiteout' },
    { name: 'etc/conf/old', body: 'hidden by an opaque whiteout' },
    { name: 'etc/kept', body: 'kept' },
  ]);
  deps = await layer([
    { name: 'app/node_modules/greeting/package.json', body: '{"name":"greeting","main":"index.js"}' },
    { name: 'app/node_modules/greeting/index.js', body: "module.exports = require('./word.js');" },
    { name: 'app/node_modules/greeting/word.js', body: "module.exports = 'hello from deps';" },
    { name: 'usr/bin/extra', body: 'added by deps', mode: 0o755 },
    { name: 'etc/.wh.gone', body: '' },
    { name: 'etc/conf/.wh..wh..opq', body: '' },
    { name: 'etc/conf/new', body: 'the only file left in etc/conf' },
  ]);
  for (const version of ['one', 'two']) {
    const app = await layer([
      { name: 'app/main.js', body: `console.log(require('greeting') + ' ${version}');` },
      { name: 'app/package.json', body: '{"type":"commonjs"}' },
    ]);
    await push(version, [base, deps, app]);
  }
}, 60_000);
afterAll(async () => {
  await server.close();
  rmSync(work, { recursive: true, force: true });
});

describe('pullAndUnpack: layers merged as an overlay filesystem would', () => {
  it('applies upper files, whiteouts and opaque directories over the lower layers', async () => {
    const { rootfs } = await pullAndUnpack(client, 'layered', 'one', join(work, 'one'), join(work, 'cache'));
    expect(readFileSync(join(rootfs, 'etc/kept'), 'utf8')).toBe('kept');
    expect(existsSync(join(rootfs, 'etc/gone'))).toBe(false);
    expect(existsSync(join(rootfs, 'etc/.wh.gone'))).toBe(false);
    expect(readdirSync(join(rootfs, 'etc/conf'))).toEqual(['new']);
    // The image's own relative symlink resolves inside the merged tree, so it sees the upper layer's file too.
    expect(readFileSync(join(rootfs, 'bin/extra'), 'utf8')).toBe('added by deps');
    expect(readFileSync(join(rootfs, 'bin/tool'), 'utf8')).toBe('base tool');
  });

  it('a program in the top layer resolves node_modules from a lower layer (real paths stay in the merged tree)', async () => {
    const { rootfs } = await pullAndUnpack(client, 'layered', 'two', join(work, 'two'), join(work, 'cache'));
    expect(realpathSync(join(rootfs, 'app/main.js')).startsWith(realpathSync(rootfs))).toBe(true);
    const out = execFileSync(process.execPath, ['main.js'], { cwd: join(rootfs, 'app'), encoding: 'utf8' });
    expect(out.trim()).toBe('hello from deps two');
  });

  it('unpacks each layer once and merges each shared chain once: a second release adds only its own layer', async () => {
    const cache = join(work, 'cache');
    const entries = readdirSync(cache);
    // base, deps, two app layers; chains: base+deps (shared), base+deps+app for each release.
    expect(entries.filter((name) => name.startsWith('sha256-'))).toHaveLength(4);
    expect(entries.filter((name) => name.startsWith('chain-'))).toHaveLength(3);
    expect(entries.filter((name) => name.includes('.partial-'))).toEqual([]);
    const again = await pullAndUnpack(client, 'layered', 'one', join(work, 'again'), cache);
    expect(readdirSync(cache).sort()).toEqual(entries.sort());
    expect(readFileSync(join(again.rootfs, 'app/main.js'), 'utf8')).toContain("' one'");
  });

  it('refuses a layer entry that points outside the image, and leaves no partial directory behind', async () => {
    const evil = await layer([{ name: '../escaped', body: 'outside' }]);
    await push('evil', [evil]);
    const cache = join(work, 'evil-cache');
    await expect(pullAndUnpack(client, 'layered', 'evil', join(work, 'evil'), cache)).rejects.toThrow(
      /points outside the image/,
    );
    expect(existsSync(join(work, 'escaped'))).toBe(false);
    expect(readdirSync(cache)).toEqual([]);
  });

  it('stops a layer that unpacks to more than the limit (a decompression bomb) and keeps nothing of it', async () => {
    // 64 MiB of zeros gzip to about 64 KiB: a 1,000:1 expansion.
    const tar = pack();
    tar.entry({ name: 'zeros', mode: 0o644 }, Buffer.alloc(64 * 1024 ** 2));
    tar.finalize();
    const chunks: Buffer[] = [];
    for await (const chunk of tar) chunks.push(Buffer.from(chunk as Uint8Array));
    const bomb = bufferBlob(gzipSync(Buffer.concat(chunks)));
    expect(bomb.size).toBeLessThan(1024 ** 2);
    await push('bomb', [bomb]);
    const cache = join(work, 'bomb-cache');
    await expect(
      pullAndUnpack(client, 'layered', 'bomb', join(work, 'bomb'), cache, { maxLayerBytes: 16 * 1024 ** 2 }),
    ).rejects.toMatchObject({ code: 'LAYER_TOO_LARGE', message: expect.stringMatching(/more than 16777216 bytes/) });
    expect(readdirSync(cache)).toEqual([]);
    // Under the default limit (8 GiB) the same layer unpacks.
    const { rootfs } = await pullAndUnpack(client, 'layered', 'bomb', join(work, 'bomb'), join(work, 'bomb-ok'));
    expect(statSync(join(rootfs, 'zeros')).size).toBe(64 * 1024 ** 2);
  });
});
