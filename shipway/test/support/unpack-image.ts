import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract } from 'tar-stream';
import type { RegistryClient } from '../../src/adapters/registry/registry-client.js';

export interface PulledImage {
  readonly rootfs: string;
  readonly config: {
    config: {
      Env?: string[];
      Cmd?: string[] | null;
      Entrypoint?: string[] | null;
      WorkingDir?: string;
      User?: string;
      Labels?: Record<string, string>;
      ExposedPorts?: Record<string, object>;
    };
  };
  readonly layers: number;
}

function sink(chunks: Buffer[]): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
}

/** Pulls an image through the client and unpacks its layers, in order, into `dir/rootfs`. */
export async function pullAndUnpack(
  client: RegistryClient,
  repo: string,
  reference: string,
  dir: string,
): Promise<PulledImage> {
  const manifest = await client.getManifest(repo, reference);
  if (manifest === undefined) throw new Error(`no manifest ${repo}:${reference}`);
  const parsed = JSON.parse(manifest.bytes.toString()) as { config: { digest: string }; layers: { digest: string }[] };
  const configChunks: Buffer[] = [];
  await client.downloadBlob(repo, parsed.config.digest, sink(configChunks));
  const rootfs = join(dir, 'rootfs');
  await mkdir(rootfs, { recursive: true });
  for (const layer of parsed.layers) {
    const stream = new PassThrough();
    const downloading = client.downloadBlob(repo, layer.digest, stream);
    const tar = extract();
    tar.on('entry', (header, body, next) => {
      const target = join(rootfs, header.name);
      const done = (error?: unknown) => (error === undefined ? next() : tar.destroy(error as Error));
      const chunks: Buffer[] = [];
      body.on('data', (chunk: unknown) => {
        if (Buffer.isBuffer(chunk)) chunks.push(chunk);
      });
      body.on('end', () => {
        (async () => {
          await mkdir(dirname(target), { recursive: true });
          if (header.name.split('/').pop()?.startsWith('.wh.')) return;
          if (header.type === 'directory') await mkdir(target, { recursive: true, mode: header.mode ?? 0o755 });
          else if (header.type === 'symlink') {
            await rm(target, { force: true });
            await symlink(header.linkname ?? '', target);
          } else if (header.type === 'file') {
            await rm(target, { force: true });
            await writeFile(target, Buffer.concat(chunks), { mode: header.mode ?? 0o644 });
          }
        })().then(() => done(), done);
      });
    });
    await Promise.all([downloading, pipeline(stream, createGunzip(), tar)]);
  }
  return { rootfs, config: JSON.parse(Buffer.concat(configChunks).toString()), layers: parsed.layers.length };
}
