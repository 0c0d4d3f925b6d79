import { createHash } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { link, mkdir, readdir, readlink, rename, rm, stat, symlink } from 'node:fs/promises';
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

/** Writes one tar entry under `root`, refusing any path that would land outside it. Whiteouts stay as marker files. */
async function writeEntry(
  root: string,
  header: Headers,
  body: AsyncIterable<unknown> & { resume(): unknown },
): Promise<void> {
  const relative = inside(header.name);
  const target = join(root, relative);
  await mkdir(dirname(target), { recursive: true });
  if (header.type === 'directory') {
    await mkdir(target, { recursive: true, mode: header.mode ?? 0o755 });
    body.resume();
  } else if (header.type === 'symlink') {
    await rm(target, { force: true, recursive: true });
    await symlink(header.linkname ?? '', target);
    body.resume();
  } else if (header.type === 'link') {
    await rm(target, { force: true, recursive: true });
    await link(join(root, inside(header.linkname ?? '')), target);
    body.resume();
  } else if (header.type === 'file') {
    await rm(target, { force: true });
    await pipeline(body, createWriteStream(target, { mode: header.mode ?? 0o644 }));
  } else {
    body.resume();
  }
}

function inside(name: string): string {
  const relative = normalize(name).replace(/^\/+/, '');
  if (relative === '..' || relative.startsWith('../'))
    throw new ExternalError('LAYER_INVALID', `layer entry ${name} points outside the image`);
  return relative;
}

/** Streams one layer blob (digest-verified by the client) through gunzip and tar into `dir`. */
async function unpackLayer(client: RegistryClient, repo: string, digest: string, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const stream = new PassThrough();
  const tar = extract();
  tar.on('entry', (header, body, next) => {
    writeEntry(dir, header, body).then(
      () => next(),
      (error: unknown) => tar.destroy(error instanceof Error ? error : new Error(String(error))),
    );
  });
  await Promise.all([client.downloadBlob(repo, digest, stream), pipeline(stream, createGunzip(), tar)]);
}

/**
 * Builds `target` as `upper` laid over `lower`, the way an overlay filesystem merges layers: an
 * opaque whiteout hides all of `lower` in that directory, `.wh.<name>` hides `<name>`, and upper
 * entries replace lower ones. Lower-only entries become symlinks into `lower` and only the
 * directories both sides have are merged, so the cost follows the upper layer, not the image.
 * Upper files are hard links (never symlinks) so that a program's real path stays inside the
 * merged tree, which is where Node resolves its `node_modules` from.
 */
async function overlay(lower: string | undefined, upper: string, target: string): Promise<void> {
  await mkdir(target, { mode: (await stat(upper)).mode });
  const upperEntries = await readdir(upper, { withFileTypes: true });
  const whiteouts = upperEntries.filter((entry) => entry.name.startsWith('.wh.')).map((entry) => entry.name);
  const hidden = new Set(whiteouts.map((name) => name.slice(4)));
  const upperNames = new Set(upperEntries.map((entry) => entry.name));
  const lowerEntries =
    lower === undefined || whiteouts.includes('.wh..wh..opq') ? [] : await readdir(lower, { withFileTypes: true });
  const work: Promise<void>[] = [];
  for (const entry of lowerEntries) {
    if (upperNames.has(entry.name) || hidden.has(entry.name) || lower === undefined) continue;
    const source = join(lower, entry.name);
    // An image's own symlink is copied so it resolves inside the merged tree.
    const link = entry.isSymbolicLink() ? readlink(source) : Promise.resolve(source);
    work.push(link.then((destination) => symlink(destination, join(target, entry.name))));
  }
  for (const entry of upperEntries) {
    if (entry.name.startsWith('.wh.')) continue;
    const source = join(upper, entry.name);
    const destination = join(target, entry.name);
    if (entry.isDirectory()) {
      const below = lower === undefined ? undefined : join(lower, entry.name);
      const merge = below !== undefined && (await stat(below).catch(() => undefined))?.isDirectory() === true;
      work.push(overlay(merge ? below : undefined, source, destination));
    } else if (entry.isSymbolicLink()) {
      work.push(readlink(source).then((value) => symlink(value, destination)));
    } else {
      work.push(link(source, destination));
    }
  }
  await Promise.all(work);
}

/** Unpacks a layer into the cache once (unpack to a partial directory, then rename). */
async function cacheLayer(client: RegistryClient, repo: string, digest: string, cached: string): Promise<void> {
  if (existsSync(cached)) return;
  const partial = `${cached}.partial-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    await unpackLayer(client, repo, digest, partial);
    await publish(partial, cached);
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
}

/** Renames a finished directory into place; if another pull finished it first, theirs is as good. */
async function publish(partial: string, final: string): Promise<void> {
  try {
    await rename(partial, final);
  } catch (error) {
    if (!existsSync(final)) throw error;
  }
}

/**
 * Pulls an image by tag or digest and returns its root filesystem. Each layer is unpacked once
 * into `layerCache`, and each chain of layers (base, base + dependencies, …) is merged once, so a
 * release that shares its base and dependency layers with the last one costs its own small layer.
 */
export async function pullAndUnpack(
  client: RegistryClient,
  repo: string,
  reference: string,
  dir: string,
  layerCache: string = join(dir, 'layers'),
): Promise<PulledImage> {
  const manifest = await client.getManifest(repo, reference);
  if (manifest === undefined)
    throw new ExternalError('IMAGE_NOT_FOUND', `${client.registry}/${repo}@${reference} was not found`);
  const parsed = JSON.parse(manifest.bytes.toString()) as { config: { digest: string }; layers: { digest: string }[] };
  const configChunks: Buffer[] = [];
  await client.downloadBlob(repo, parsed.config.digest, collect(configChunks));
  await mkdir(layerCache, { recursive: true });
  let rootfs: string | undefined;
  const chain = createHash('sha256');
  for (const layer of parsed.layers) {
    const cached = join(layerCache, layer.digest.replace(/[^a-zA-Z0-9]/g, '-'));
    await cacheLayer(client, repo, layer.digest, cached);
    chain.update(`${layer.digest}\n`);
    const merged = join(layerCache, `chain-${chain.copy().digest('hex').slice(0, 32)}`);
    if (rootfs === undefined) rootfs = cached;
    else if (existsSync(merged)) rootfs = merged;
    else {
      const partial = `${merged}.partial-${process.pid}-${Math.random().toString(36).slice(2)}`;
      try {
        await overlay(rootfs, cached, partial);
        await publish(partial, merged);
      } finally {
        await rm(partial, { recursive: true, force: true });
      }
      rootfs = merged;
    }
  }
  if (rootfs === undefined) throw new ExternalError('IMAGE_INVALID', `${repo}@${reference} has no layers`);
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
