import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { PassThrough, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract } from 'tar-stream';
import { ExternalError, ShipwayError } from '../../core/errors.js';
import type { RegistryClient } from '../registry/registry-client.js';
import { EntryFailed, EntryRefused, LayerWriter } from './layer-writer.js';

export interface LayerToUnpack {
  readonly digest: string;
  readonly size: number;
  readonly mediaType: string;
  /** The config's rootfs.diff_ids entry: the sha256 of the uncompressed tar, when the config has one. */
  readonly diffId: string | undefined;
}

/**
 * The most one layer may unpack to: 8 GiB. gzip reaches ratios near 1,000:1, so a small blob could
 * otherwise fill the disk before its diff_id is checked (a "decompression bomb"); Node services'
 * layers are tens to hundreds of MiB.
 */
export const MAX_LAYER_BYTES = 8 * 1024 ** 3;

class LayerTooLarge extends Error {}

/** Hashes the uncompressed tar (the diff_id) and stops it at `max` bytes. */
class Hasher extends Transform {
  readonly hash = createHash('sha256');
  private bytes = 0;
  constructor(private readonly max: number) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.max) {
      done(new LayerTooLarge(`unpacks to more than ${this.max} bytes`));
      return;
    }
    this.hash.update(chunk);
    done(null, chunk);
  }
}

/** gzip'd or plain tar (image-spec media-types.md, and Docker's rootfs.diff.tar.gzip); zstd needs a newer Node. */
function compression(mediaType: string): 'gzip' | 'none' | undefined {
  if (mediaType.endsWith('+gzip') || mediaType.endsWith('.tar.gzip')) return 'gzip';
  if (/^application\/vnd\.oci\.image\.layer\.(nondistributable\.)?v1\.tar$/.test(mediaType)) return 'none';
  return undefined;
}

/**
 * Streams one layer blob through gunzip and tar into `dir`, through a LayerWriter that keeps every
 * write inside `dir`. The blob's digest and size (the manifest's descriptor) and the uncompressed
 * tar's digest (the config's diff_id, as containerd checks on apply) are all verified; on any
 * failure the caller removes `dir`, which is a fresh partial directory.
 */
export async function unpackLayer(
  client: RegistryClient,
  repo: string,
  layer: LayerToUnpack,
  dir: string,
  maxBytes: number = MAX_LAYER_BYTES,
): Promise<void> {
  const where = `layer ${layer.digest.slice(0, 19)}… of ${client.registry}/${repo}`;
  const kind = compression(layer.mediaType);
  if (kind === undefined)
    throw new ExternalError(
      'LAYER_UNSUPPORTED',
      `${where} has media type ${layer.mediaType}, which shipway cannot unpack`,
      {
        hint: 'shipway unpacks tar and tar+gzip layers',
      },
    );
  await mkdir(dir, { recursive: true });
  const writer = new LayerWriter(dir);
  const download = new PassThrough();
  const tar = extract();
  tar.on('entry', (header, body, next) => {
    writer.write(header, body).then(
      () => next(),
      (error: unknown) => tar.destroy(error instanceof Error ? error : new Error(String(error))),
    );
  });
  const uncompressed = new Hasher(maxBytes);
  const stages = kind === 'gzip' ? [createGunzip(), uncompressed] : [uncompressed];
  const [fetched, unpacked] = await Promise.allSettled([
    client.downloadBlob(repo, layer.digest, download),
    pipeline([download, ...stages, tar]),
  ]);
  // The entry that failed explains more than the broken pipe it leaves behind in the download.
  if (unpacked.status === 'rejected') throw layerError(where, kind, unpacked.reason, fetched);
  if (fetched.status === 'rejected') throw fetched.reason;
  if (fetched.value !== layer.size)
    throw new ExternalError('LAYER_INVALID', `${where} is ${fetched.value} bytes, but the manifest says ${layer.size}`);
  const diffId = `sha256:${uncompressed.hash.digest('hex')}`;
  if (layer.diffId !== undefined && diffId !== layer.diffId)
    throw new ExternalError('LAYER_INVALID', `${where} unpacks to ${diffId}, but the config says ${layer.diffId}`, {
      hint: 'the image config and its layers do not belong together; nothing was kept',
    });
}

function layerError(where: string, kind: string, reason: unknown, fetched: PromiseSettledResult<number>): unknown {
  if (reason instanceof LayerTooLarge)
    return new ExternalError('LAYER_TOO_LARGE', `${where} ${reason.message}`, {
      hint: 'a layer that expands this much is a decompression bomb or not an image for this cluster; nothing was kept',
    });
  if (reason instanceof EntryRefused)
    return new ExternalError('LAYER_INVALID', `${where}: ${reason.message}`, {
      hint: 'the layer was crafted or corrupted; shipway writes nothing outside the image and kept nothing of it',
    });
  if (reason instanceof EntryFailed) return new ExternalError('LAYER_UNPACK_FAILED', `${where}: ${reason.message}`);
  if (fetched.status === 'rejected' && fetched.reason instanceof ShipwayError) return fetched.reason;
  const detail = reason instanceof Error ? reason.message : String(reason);
  return new ExternalError(
    'LAYER_INVALID',
    `${where} is not a valid ${kind === 'gzip' ? "gzip'd " : ''}tar: ${detail}`,
    {
      cause: reason,
    },
  );
}
