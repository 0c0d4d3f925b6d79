import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fetchImage } from '../adapters/image/fetch-image.js';
import { unpackImage } from '../adapters/image/unpack-image.js';
import { UsageError } from '../core/errors.js';
import { formatImageRef, parseImageRef } from '../core/image-ref.js';
import { locate } from '../core/oci/normalize-reference.js';
import { clientFor } from './client-for.js';
import type { AppContext } from './context.js';

export interface ImagePullOptions {
  readonly reference: string;
  readonly to: string;
}

export interface ImagePullResult {
  /** registry/repository[:tag]@digest of what was pulled. */
  readonly ref: string;
  readonly digest: string;
  readonly dir: string;
  /** The merged root filesystem: real directories, hard-linked files, the image's own symlinks. */
  readonly rootfs: string;
  /** The image config and manifest, byte for byte as verified. */
  readonly config: string;
  readonly manifest: string;
  readonly layers: readonly { readonly digest: string; readonly size: number; readonly mediaType: string }[];
}

// What a pull writes into its directory; a failed pull removes exactly these.
const OUTPUTS = ['rootfs', 'config.json', 'manifest.json', '.shipway-layers'];

/** Creates `dir` if needed; refuses one that is not an empty directory. Returns the first directory it created. */
async function prepareTarget(dir: string, given: string): Promise<string | undefined> {
  const info = await stat(dir).catch(() => undefined);
  if (info === undefined) return mkdir(dir, { recursive: true });
  if (!info.isDirectory() || (await readdir(dir)).length > 0) {
    throw new UsageError('TARGET_NOT_EMPTY', `--to ${given} is not an empty directory`, {
      hint: 'pull into a new or empty directory; shipway never unpacks over existing files',
    });
  }
  return undefined;
}

/**
 * `shipway image pull <ref> --to <dir>`: fetches and verifies an image (manifest, config, every
 * layer by digest, size and diff_id) and unpacks it with the cluster's code into `<dir>/rootfs`,
 * beside its `config.json` and `manifest.json`. Layers are unpacked in `<dir>/.shipway-layers`
 * first and merged as standalone trees (hard links, no links into a cache), so the rootfs stays
 * valid when the layer directories are removed at the end. A bad image leaves `<dir>` as it was.
 */
export async function pullImage(context: AppContext, options: ImagePullOptions): Promise<ImagePullResult> {
  const ref = parseImageRef(options.reference);
  const { registry, repository } = locate(ref);
  const dir = resolve(context.cwd, options.to);
  const created = await prepareTarget(dir, options.to);
  const cache = join(dir, '.shipway-layers');
  try {
    const client = await clientFor(context, registry);
    context.progress(`pulling ${formatImageRef(ref)}`);
    const image = await fetchImage(client, repository, ref.digest ?? ref.tag ?? 'latest');
    context.progress(`${image.manifest.layers.length} layers, manifest ${image.digest}`);
    const tree = await unpackImage(client, repository, image, cache, { standalone: true });
    await rename(tree, join(dir, 'rootfs'));
    await writeFile(join(dir, 'config.json'), image.configBytes);
    await writeFile(join(dir, 'manifest.json'), image.manifestBytes);
    return {
      ref: `${registry}/${repository}${ref.tag === null ? '' : `:${ref.tag}`}@${image.digest}`,
      digest: image.digest,
      dir,
      rootfs: join(dir, 'rootfs'),
      config: join(dir, 'config.json'),
      manifest: join(dir, 'manifest.json'),
      layers: image.manifest.layers.map(({ digest, size, mediaType }) => ({ digest, size, mediaType })),
    };
  } catch (error) {
    await Promise.all(OUTPUTS.map((name) => rm(join(dir, name), { recursive: true, force: true })));
    if (created !== undefined) await rm(created, { recursive: true, force: true });
    throw error;
  } finally {
    await rm(cache, { recursive: true, force: true });
  }
}
