import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import type { BlobSource } from '../../src/adapters/registry/registry-client.js';

export type TestBlob = BlobSource & { readonly bytes: Buffer };

/** Bytes as a blob source for the registry client, read from a file when one is given. */
export function bufferBlob(bytes: Buffer, path?: string): TestBlob {
  return {
    bytes,
    digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
    size: bytes.length,
    open: (start, end) =>
      path === undefined ? Readable.from([bytes.subarray(start, end + 1)]) : createReadStream(path, { start, end }),
  };
}

/** A file of random bytes as a blob source. */
export function randomBlob(path: string, size: number): TestBlob {
  const bytes = randomBytes(size);
  writeFileSync(path, bytes);
  return bufferBlob(bytes, path);
}

/** A minimal image (config + one layer) pushed through the client, returning its manifest bytes. */
export function imageManifest(config: TestBlob, layer: TestBlob): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.size },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layer.digest, size: layer.size }],
    }),
  );
}
