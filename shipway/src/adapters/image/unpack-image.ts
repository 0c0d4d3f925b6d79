import { createHash } from 'node:crypto';
import { type Dirent, existsSync } from 'node:fs';
import { link, lstat, mkdir, readdir, readlink, realpath, rename, rm, symlink } from 'node:fs/promises';
import { isAbsolute, join, normalize } from 'node:path';
import { ExternalError } from '../../core/errors.js';
import type { RegistryClient } from '../registry/registry-client.js';
import { type FetchedImage, fetchImage, type RuntimeConfig } from './fetch-image.js';
import { unpackLayer } from './unpack-layer.js';

export interface PulledImage {
  readonly rootfs: string;
  readonly config: RuntimeConfig;
  readonly layers: number;
}

export interface UnpackOptions {
  /**
   * false (the cluster's default): a lower layer's entries are symlinks into the layer cache, so
   * a merge costs the upper layer only. true: they are hard-linked copies, so the rootfs is a
   * self-contained tree that `ls`, `find` and `tar` read as the image's files (`image pull`).
   */
  readonly standalone?: boolean;
  /** The most bytes one layer may unpack to (its tar, uncompressed); default MAX_LAYER_BYTES. */
  readonly maxLayerBytes?: number;
}

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';

/** How an entry only the lower side has is carried into the merged tree. */
type Carry = (source: string, destination: string, entry: Dirent) => Promise<void>;

// An image's own symlink is copied so it resolves inside the merged tree; anything else is linked to.
const linkLower: Carry = async (source, destination, entry) =>
  symlink(entry.isSymbolicLink() ? await readlink(source) : source, destination);

/** A copy made of hard links: directories re-created, symlinks copied, files linked, nothing followed. */
const copyLower: Carry = async (source, destination, entry) => {
  if (entry.isSymbolicLink()) return symlink(await readlink(source), destination);
  if (!entry.isDirectory()) return link(source, destination);
  await mkdir(destination, { mode: (await lstat(source)).mode });
  const children = await readdir(source, { withFileTypes: true });
  await Promise.all(
    children
      .filter((child) => !child.name.startsWith(WHITEOUT))
      .map((child) => copyLower(join(source, child.name), join(destination, child.name), child)),
  );
};

/**
 * The directory the lower image has at `below`, if it has one there: a real directory, or a
 * directory a chain carried as a link (linkLower) into this image's own layer and chain
 * directories, by a real path. Anything else, an image's own symlink above all, is not a
 * directory of the image and is never followed: an upper directory replaces it.
 */
async function lowerDirectory(below: string, own: readonly string[]): Promise<string | undefined> {
  const info = await lstat(below).catch(() => undefined);
  if (info?.isDirectory() === true) return below;
  if (info?.isSymbolicLink() !== true || own.length === 0) return undefined;
  const target = await readlink(below);
  if (!isAbsolute(target) || normalize(target) !== target || !own.some((dir) => target.startsWith(`${dir}/`)))
    return undefined;
  const real = await realpath(target).catch(() => undefined);
  return real === target && (await lstat(real)).isDirectory() ? real : undefined;
}

/**
 * Builds `target` as `upper` laid over `lower`, the way overlayfs merges layers
 * (docs.kernel.org/filesystems/overlayfs.html, "Directories", "whiteouts and opaque directories"):
 * an opaque whiteout hides all of `lower` in that directory, `.wh.<name>` hides `<name>`, upper
 * entries replace lower ones, and only where both sides are real directories are they merged. A
 * lower symlink is never followed (lstat), so an upper directory hides a lower symlink of the
 * same name instead of merging with wherever it points (see lowerDirectory). Upper files are hard links (never
 * symlinks) so that a program's real path stays inside the merged tree, which is where Node
 * resolves its `node_modules` from; lower-only entries are carried over by `carry`.
 */
async function overlay(
  lower: string | undefined,
  upper: string,
  target: string,
  carry: Carry,
  own: readonly string[],
): Promise<void> {
  await mkdir(target, { mode: (await lstat(upper)).mode });
  const upperEntries = await readdir(upper, { withFileTypes: true });
  const whiteouts = upperEntries.filter((entry) => entry.name.startsWith(WHITEOUT)).map((entry) => entry.name);
  const hidden = new Set(whiteouts.map((name) => name.slice(WHITEOUT.length)));
  const upperNames = new Set(upperEntries.map((entry) => entry.name));
  const lowerEntries =
    lower === undefined || whiteouts.includes(OPAQUE) ? [] : await readdir(lower, { withFileTypes: true });
  const work: Promise<void>[] = [];
  for (const entry of lowerEntries) {
    if (upperNames.has(entry.name) || hidden.has(entry.name) || entry.name.startsWith(WHITEOUT)) continue;
    if (lower !== undefined) work.push(carry(join(lower, entry.name), join(target, entry.name), entry));
  }
  for (const entry of upperEntries) {
    if (entry.name.startsWith(WHITEOUT)) continue;
    const source = join(upper, entry.name);
    const destination = join(target, entry.name);
    if (entry.isDirectory()) {
      const below = lower === undefined ? undefined : await lowerDirectory(join(lower, entry.name), own);
      work.push(overlay(below, source, destination, carry, own));
    } else if (entry.isSymbolicLink()) {
      work.push(readlink(source).then((value) => symlink(value, destination)));
    } else {
      work.push(link(source, destination));
    }
  }
  await Promise.all(work);
}

const partialName = (final: string) => `${final}.partial-${process.pid}-${Math.random().toString(36).slice(2)}`;

/** Makes `final` by writing a partial directory and renaming it into place; a failure leaves nothing. */
async function publishDirectory(final: string, make: (partial: string) => Promise<void>): Promise<void> {
  if (existsSync(final)) return;
  const partial = partialName(final);
  try {
    await make(partial);
    await rename(partial, final).catch((error: unknown) => {
      // Another pull finished it first; theirs is as good.
      if (!existsSync(final)) throw error;
    });
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
}

/**
 * Unpacks a fetched image's layers and merges them. Each layer is unpacked once into
 * `layerCache`, and each chain of layers (base, base + dependencies, …) is merged once, so a
 * release that shares its base and dependency layers with the last one costs its own small layer.
 */
export async function unpackImage(
  client: RegistryClient,
  repo: string,
  image: FetchedImage,
  layerCache: string,
  options: UnpackOptions = {},
): Promise<string> {
  await mkdir(layerCache, { recursive: true });
  // Real paths, so that the links a chain carries lower directories by are real paths too.
  const cache = await realpath(layerCache);
  const own: string[] = [];
  // A standalone tree has no carried links, so nothing in it is followed at all.
  const followable = options.standalone === true ? [] : own;
  const carry = options.standalone === true ? copyLower : linkLower;
  const prefix = options.standalone === true ? 'tree' : 'chain';
  let rootfs: string | undefined;
  const chain = createHash('sha256');
  for (const [index, layer] of image.manifest.layers.entries()) {
    const cached = join(cache, layer.digest.replace(/[^a-zA-Z0-9]/g, '-'));
    const diffId = image.config.rootfs?.diff_ids[index];
    await publishDirectory(cached, (partial) =>
      unpackLayer(client, repo, { ...layer, diffId }, partial, options.maxLayerBytes),
    );
    own.push(cached);
    chain.update(`${layer.digest}\n`);
    if (rootfs === undefined && options.standalone !== true) {
      rootfs = cached;
      continue;
    }
    const merged = join(cache, `${prefix}-${chain.copy().digest('hex').slice(0, 32)}`);
    const lower = rootfs;
    await publishDirectory(merged, (partial) => overlay(lower, cached, partial, carry, followable));
    own.push(merged);
    rootfs = merged;
  }
  if (rootfs === undefined) throw new ExternalError('IMAGE_INVALID', `${client.registry}/${repo} has no layers`);
  return rootfs;
}

/** Pulls an image by tag or digest and returns its root filesystem and config (the cluster's pull). */
export async function pullAndUnpack(
  client: RegistryClient,
  repo: string,
  reference: string,
  dir: string,
  layerCache: string = join(dir, 'layers'),
  options: UnpackOptions = {},
): Promise<PulledImage> {
  const image = await fetchImage(client, repo, reference);
  const rootfs = await unpackImage(client, repo, image, layerCache, options);
  return { rootfs, config: image.config, layers: image.manifest.layers.length };
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
