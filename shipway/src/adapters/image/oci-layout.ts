import { createHash } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { MEDIA } from '../../core/oci/manifest.js';
import { writeAtomically } from '../fs/write-atomically.js';

interface IndexEntry {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

/**
 * An OCI image layout directory (image-spec image-layout.md) that doubles as shipway's build
 * cache: every layer, config and manifest a build makes lands in blobs/sha256, and each built
 * tag is listed in index.json, so `skopeo copy oci:<dir>:<tag> …` can read any build.
 */
export class OciLayout {
  readonly blobDir: string;

  constructor(readonly dir: string) {
    this.blobDir = join(dir, 'blobs/sha256');
  }

  async init(): Promise<void> {
    await mkdir(this.blobDir, { recursive: true });
    await writeAtomically(join(this.dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  }

  blobPath(digest: string): string {
    return join(this.blobDir, digest.slice('sha256:'.length));
  }

  async hasBlob(digest: string): Promise<boolean> {
    try {
      await stat(this.blobPath(digest));
      return true;
    } catch {
      return false;
    }
  }

  async writeBlob(bytes: Buffer): Promise<string> {
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if (!(await this.hasBlob(digest))) await writeAtomically(this.blobPath(digest), bytes);
    return digest;
  }

  async readBlob(digest: string): Promise<Buffer> {
    return readFile(this.blobPath(digest));
  }

  async tagManifest(tag: string, digest: string, size: number): Promise<void> {
    const path = join(this.dir, 'index.json');
    let index: { schemaVersion: 2; mediaType?: string; manifests: IndexEntry[] };
    try {
      index = JSON.parse(await readFile(path, 'utf8'));
    } catch {
      index = { schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: [] };
    }
    const refName = 'org.opencontainers.image.ref.name';
    index.manifests = index.manifests.filter((entry) => entry.annotations?.[refName] !== tag);
    index.manifests.push({ mediaType: MEDIA.ociManifest, digest, size, annotations: { [refName]: tag } });
    await writeAtomically(path, JSON.stringify(index));
  }

  /** A small JSON record kept beside the blobs, e.g. which layer a cache key produced. */
  async readRecord<T>(name: string): Promise<T | undefined> {
    try {
      return JSON.parse(await readFile(join(this.dir, 'shipway-cache', `${name}.json`), 'utf8')) as T;
    } catch {
      return undefined;
    }
  }

  async writeRecord(name: string, value: unknown): Promise<void> {
    await writeAtomically(join(this.dir, 'shipway-cache', `${name}.json`), JSON.stringify(value));
  }
}
