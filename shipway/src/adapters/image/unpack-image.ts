import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, rm, symlink } from 'node:fs/promises';
import { dirname, join, normalize } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract, type Header as Headers } from 'tar-stream';
import { ExternalError } from '../../core/errors.js';
import type { RegistryClient } from '../registry/registry-client.js';

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

function collect(chunks: Buffer[]): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
}

/** Writes one tar entry under `rootfs`, refusing any path that would land outside it. */
async function writeEntry(
  rootfs: string,
  header: Headers,
  body: AsyncIterable<unknown> & { resume(): unknown },
): Promise<void> {
  const relative = normalize(header.name).replace(/^\/+/, '');
  if (relative.startsWith('..'))
    throw new ExternalError('LAYER_INVALID', `layer entry ${header.name} points outside the image`);
  const target = join(rootfs, relative);
  await mkdir(dirname(target), { recursive: true });
  const base = relative.split('/').pop() ?? '';
  if (base.startsWith('.wh.')) {
    // An OCI whiteout: the file (or, for .wh..wh..opq, the directory's contents) is deleted.
    await rm(join(dirname(target), base === '.wh..wh..opq' ? '' : base.slice(4)), { recursive: true, force: true });
    if (base === '.wh..wh..opq') await mkdir(dirname(target), { recursive: true });
    body.resume();
    return;
  }
  if (header.type === 'directory') {
    await mkdir(target, { recursive: true, mode: header.mode ?? 0o755 });
    body.resume();
  } else if (header.type === 'symlink') {
    await rm(target, { force: true, recursive: true });
    await symlink(header.linkname ?? '', target);
    body.resume();
  } else if (header.type === 'file') {
    await rm(target, { force: true });
    await pipeline(body, createWriteStream(target, { mode: header.mode ?? 0o644 }));
  } else {
    body.resume();
  }
}

/**
 * Pulls an image by tag or digest through the client and unpacks its layers, in order, into
 * `dir/rootfs`, streaming each layer (digest-verified by the client) through gunzip and tar.
 */
export async function pullAndUnpack(
  client: RegistryClient,
  repo: string,
  reference: string,
  dir: string,
): Promise<PulledImage> {
  const manifest = await client.getManifest(repo, reference);
  if (manifest === undefined)
    throw new ExternalError('IMAGE_NOT_FOUND', `${client.registry}/${repo}@${reference} was not found`);
  const parsed = JSON.parse(manifest.bytes.toString()) as { config: { digest: string }; layers: { digest: string }[] };
  const configChunks: Buffer[] = [];
  await client.downloadBlob(repo, parsed.config.digest, collect(configChunks));
  const rootfs = join(dir, 'rootfs');
  await mkdir(rootfs, { recursive: true });
  for (const layer of parsed.layers) {
    const stream = new PassThrough();
    const tar = extract();
    tar.on('entry', (header, body, next) => {
      writeEntry(rootfs, header, body).then(
        () => next(),
        (error: unknown) => tar.destroy(error instanceof Error ? error : new Error(String(error))),
      );
    });
    await Promise.all([client.downloadBlob(repo, layer.digest, stream), pipeline(stream, createGunzip(), tar)]);
  }
  return { rootfs, config: JSON.parse(Buffer.concat(configChunks).toString()), layers: parsed.layers.length };
}

export interface ImageCommand {
  readonly program: string | undefined;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: Record<string, string>;
}

/**
 * How a runtime would start an unpacked image, minus the namespaces: Entrypoint + Cmd, the
 * program looked up on the image's own PATH inside its rootfs, its working directory and env.
 */
export function imageCommand(image: PulledImage): ImageCommand {
  const settings = image.config.config;
  const command = [...(settings.Entrypoint ?? []), ...(settings.Cmd ?? [])];
  const env = Object.fromEntries(
    (settings.Env ?? []).map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
  );
  const first = command[0] ?? '';
  const program = first.includes('/')
    ? join(image.rootfs, first)
    : (env.PATH ?? '/usr/bin:/bin')
        .split(':')
        .map((dir) => join(image.rootfs, dir, first))
        .find((path) => existsSync(path));
  return { program, args: command.slice(1), cwd: join(image.rootfs, settings.WorkingDir ?? '/'), env };
}
