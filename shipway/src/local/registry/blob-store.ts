import { createHash, type Hash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const SHA256 = /^sha256:([a-f0-9]{64})$/;
const UPLOAD_ID = /^[a-f0-9]{32}$/;

export function isStorableDigest(digest: string): boolean {
  return SHA256.test(digest);
}

interface UploadSession {
  readonly repo: string;
  hash: Hash;
  size: number;
}

export interface StoredManifest {
  readonly digest: string;
  readonly mediaType: string;
  readonly bytes: Buffer;
}

/**
 * Content-addressed storage for the embedded registry. Blobs live at blobs/sha256/<hex> and are
 * only ever created by renaming a fully written and verified temp file, so a broken upload can
 * never leave a blob behind. Repositories hold links: which blobs they may serve, which manifest
 * revisions they have (with media type), and tags (files holding a digest). Every name reaching
 * this class has been validated against the distribution spec's grammar, so no path escapes root.
 */
export class BlobStore {
  private readonly sessions = new Map<string, UploadSession>();

  constructor(readonly root: string) {}

  async init(): Promise<void> {
    await mkdir(join(this.root, 'blobs/sha256'), { recursive: true });
    await mkdir(join(this.root, 'uploads'), { recursive: true });
    // Uploads from before a restart cannot be resumed (their hash state is gone).
    for (const name of await readdir(join(this.root, 'uploads')))
      await rm(join(this.root, 'uploads', name), { force: true });
  }

  blobPath(digest: string): string {
    return join(this.root, 'blobs/sha256', digest.slice('sha256:'.length));
  }

  async blobSize(digest: string): Promise<number | undefined> {
    try {
      return (await stat(this.blobPath(digest))).size;
    } catch {
      return undefined;
    }
  }

  private linkPath(repo: string, kind: '_layers' | '_manifests/revisions', digest: string): string {
    return join(this.root, 'repositories', repo, kind, digest.slice('sha256:'.length));
  }

  async repoHasBlob(repo: string, digest: string): Promise<boolean> {
    const size = await this.blobSize(digest);
    if (size === undefined) return false;
    return (
      (await exists(this.linkPath(repo, '_layers', digest))) ||
      (await exists(this.linkPath(repo, '_manifests/revisions', digest)))
    );
  }

  async linkBlob(repo: string, digest: string): Promise<void> {
    await writeAtomically(this.linkPath(repo, '_layers', digest), '');
  }

  blobStream(digest: string): Readable {
    return createReadStream(this.blobPath(digest));
  }

  async startUpload(repo: string): Promise<string> {
    const id = randomBytes(16).toString('hex');
    await writeFile(this.uploadPath(id), '');
    this.sessions.set(id, { repo, hash: createHash('sha256'), size: 0 });
    return id;
  }

  uploadSize(id: string, repo: string): number | undefined {
    const session = this.session(id, repo);
    return session?.size;
  }

  /** Appends a request body to an upload; on a broken stream the upload is rolled back to where it was. */
  async appendToUpload(id: string, repo: string, body: Readable): Promise<number> {
    const session = this.session(id, repo);
    if (session === undefined) throw new Error('unknown upload');
    const before = { hash: session.hash.copy(), size: session.size };
    const counter = async function* (source: Readable) {
      for await (const chunk of source) {
        const buffer = chunk as Buffer;
        session.hash.update(buffer);
        session.size += buffer.length;
        yield buffer;
      }
    };
    try {
      await pipeline(body, counter, createWriteStream(this.uploadPath(id), { flags: 'a' }));
    } catch (error) {
      session.hash = before.hash;
      session.size = before.size;
      await truncate(this.uploadPath(id), before.size).catch(() => {});
      throw error;
    }
    return session.size;
  }

  /** Verifies the upload against `digest`; only a match moves it into the blob store. */
  async finishUpload(id: string, repo: string, digest: string): Promise<'stored' | 'mismatch'> {
    const session = this.session(id, repo);
    if (session === undefined) throw new Error('unknown upload');
    this.sessions.delete(id);
    const actual = `sha256:${session.hash.digest('hex')}`;
    if (actual !== digest) {
      await rm(this.uploadPath(id), { force: true });
      return 'mismatch';
    }
    await rename(this.uploadPath(id), this.blobPath(digest));
    await this.linkBlob(repo, digest);
    return 'stored';
  }

  async cancelUpload(id: string, repo: string): Promise<boolean> {
    if (this.session(id, repo) === undefined) return false;
    this.sessions.delete(id);
    await rm(this.uploadPath(id), { force: true });
    return true;
  }

  async putManifest(repo: string, tag: string | undefined, bytes: Buffer, mediaType: string): Promise<string> {
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if ((await this.blobSize(digest)) === undefined) await writeAtomically(this.blobPath(digest), bytes);
    await writeAtomically(this.linkPath(repo, '_manifests/revisions', digest), mediaType);
    if (tag !== undefined) await writeAtomically(join(this.root, 'repositories', repo, '_manifests/tags', tag), digest);
    return digest;
  }

  async resolve(repo: string, reference: string): Promise<string | undefined> {
    if (isStorableDigest(reference)) return reference;
    try {
      return (await readFile(join(this.root, 'repositories', repo, '_manifests/tags', reference), 'utf8')).trim();
    } catch {
      return undefined;
    }
  }

  async getManifest(repo: string, reference: string): Promise<StoredManifest | undefined> {
    const digest = await this.resolve(repo, reference);
    if (digest === undefined || !isStorableDigest(digest)) return undefined;
    try {
      const mediaType = await readFile(this.linkPath(repo, '_manifests/revisions', digest), 'utf8');
      return { digest, mediaType, bytes: await readFile(this.blobPath(digest)) };
    } catch {
      return undefined;
    }
  }

  async listTags(repo: string): Promise<string[] | undefined> {
    try {
      return (await readdir(join(this.root, 'repositories', repo, '_manifests/tags')))
        .filter((name) => !name.includes('.tmp-'))
        .sort();
    } catch {
      return (await exists(join(this.root, 'repositories', repo))) ? [] : undefined;
    }
  }

  private uploadPath(id: string): string {
    return join(this.root, 'uploads', id);
  }

  private session(id: string, repo: string): UploadSession | undefined {
    if (!UPLOAD_ID.test(id)) return undefined;
    const session = this.sessions.get(id);
    return session?.repo === repo ? session : undefined;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Writes beside the target and renames, so readers see the old content or the new, never half. */
export async function writeAtomically(path: string, content: string | Buffer): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await writeFile(temporary, content);
  await rename(temporary, path);
}
