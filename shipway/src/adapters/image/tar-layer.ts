import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { pack as createPack } from 'tar-stream';

/** One entry of a layer; paths are relative to the image root, without a leading slash. */
export type LayerEntry =
  | { readonly path: string; readonly type: 'directory'; readonly mode?: number }
  | {
      readonly path: string;
      readonly type: 'file';
      readonly source: string;
      readonly size: number;
      readonly executable: boolean;
    }
  | { readonly path: string; readonly type: 'file'; readonly content: Buffer; readonly executable: boolean }
  | { readonly path: string; readonly type: 'symlink'; readonly target: string };

export interface BuiltLayer {
  /** sha256 of the gzip bytes: what the manifest names and the registry stores. */
  readonly digest: string;
  /** sha256 of the uncompressed tar: the image config's rootfs.diff_ids entry. */
  readonly diffId: string;
  readonly size: number;
}

class HashingCounter extends Transform {
  readonly hash = createHash('sha256');
  size = 0;
  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    done(null, chunk);
  }
}

function withParents(entries: readonly LayerEntry[]): LayerEntry[] {
  const byPath = new Map<string, LayerEntry>();
  for (const entry of entries) {
    const parts = entry.path.split('/');
    for (let i = 1; i < parts.length; i += 1) {
      const dir = parts.slice(0, i).join('/');
      if (!byPath.has(dir)) byPath.set(dir, { path: dir, type: 'directory' });
    }
    byPath.set(entry.path, entry);
  }
  return [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * Writes a reproducible gzip'd tar layer into `blobDir` (an OCI layout's blobs/sha256): entries
 * sorted by path with their parent directories, one fixed mtime, owner root:root, modes
 * normalised to 0755/0644 (directories 0755 unless given), no user or group names. The same
 * entries and mtime give the same bytes, so the same digest, on any machine with the same zlib.
 */
export async function writeLayer(
  entries: readonly LayerEntry[],
  blobDir: string,
  mtimeSeconds: number,
): Promise<BuiltLayer> {
  await mkdir(blobDir, { recursive: true });
  const temporary = join(blobDir, `.layer-${process.pid}-${randomBytes(4).toString('hex')}`);
  const tar = createPack();
  const uncompressed = new HashingCounter();
  const compressed = new HashingCounter();
  const mtime = new Date(mtimeSeconds * 1000);
  const writing = pipeline(tar, uncompressed, createGzip({ level: 6 }), compressed, createWriteStream(temporary));
  for (const entry of withParents(entries)) {
    const header = { name: entry.path, mtime, uid: 0, gid: 0, uname: '', gname: '' };
    if (entry.type === 'directory') {
      tar.entry({ ...header, type: 'directory', mode: entry.mode ?? 0o755 });
    } else if (entry.type === 'symlink') {
      tar.entry({ ...header, type: 'symlink', linkname: entry.target, mode: 0o777 });
    } else if ('content' in entry) {
      tar.entry(
        { ...header, type: 'file', mode: entry.executable ? 0o755 : 0o644, size: entry.content.length },
        entry.content,
      );
    } else {
      const sink = tar.entry({ ...header, type: 'file', mode: entry.executable ? 0o755 : 0o644, size: entry.size });
      await pipeline(createReadStream(entry.source), sink);
    }
  }
  tar.finalize();
  await writing;
  const digest = `sha256:${compressed.hash.digest('hex')}`;
  await rename(temporary, join(blobDir, digest.slice(7)));
  return { digest, diffId: `sha256:${uncompressed.hash.digest('hex')}`, size: compressed.size };
}

export function blobFile(blobDir: string, digest: string): string {
  return join(blobDir, digest.slice('sha256:'.length));
}
