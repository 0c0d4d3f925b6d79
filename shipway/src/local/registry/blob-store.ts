import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { placeOnce, TEMP_FILE, writeAtomically, writeOnce } from '../../adapters/fs/write-atomically.js';
import { cleanLeftovers } from './clean-leftovers.js';
import { type UploadClaim, type UploadSession, UploadSessions } from './upload-sessions.js';

const SHA256 = /^sha256:([a-f0-9]{64})$/;

export function isStorableDigest(digest: string): boolean {
  return SHA256.test(digest);
}

export interface StoredManifest {
  readonly digest: string;
  readonly mediaType: string;
  readonly bytes: Buffer;
}

/**
 * Content-addressed storage for the embedded registry. Blobs live at blobs/sha256/<hex> and are
 * only ever created by linking a fully written and verified file into place, never replacing an
 * existing one, so a broken or lying upload can never leave or change a blob. Repositories hold
 * links: which blobs they may serve, which manifest revisions they have (with media type), and
 * tags (files holding a digest). Every name reaching
 * this class has been validated against the distribution spec's grammar, so no path escapes root.
 */
export class BlobStore {
  private readonly sessions: UploadSessions;

  constructor(
    readonly root: string,
    options: { readonly uploadTtlMs?: number } = {},
  ) {
    this.sessions = new UploadSessions(options.uploadTtlMs);
  }

  /** Creates the layout and removes what an earlier crash left (see cleanLeftovers). */
  async init(): Promise<string[]> {
    await mkdir(join(this.root, 'blobs/sha256'), { recursive: true });
    await mkdir(join(this.root, 'uploads'), { recursive: true });
    return cleanLeftovers(this.root);
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
    const session = this.sessions.open(repo);
    await writeFile(this.uploadPath(session.id), '');
    return session.id;
  }

  uploadSize(id: string, repo: string): number | undefined {
    return this.sessions.find(id, repo)?.size;
  }

  /** Takes an upload for one request (see UploadSessions.claim); release or finish it after. */
  claimUpload(id: string, repo: string, start?: number): UploadClaim {
    return this.sessions.claim(id, repo, start);
  }

  releaseUpload(session: UploadSession): void {
    this.sessions.release(session);
  }

  /** Whether a claimed upload is still open (a DELETE or expiry may have ended it meanwhile). */
  uploadIsOpen(session: UploadSession): boolean {
    return this.sessions.isOpen(session);
  }

  /** Appends a request body to a claimed upload; on a broken stream it is rolled back to where it was. */
  async appendToUpload(session: UploadSession, body: Readable): Promise<number> {
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
      await pipeline(body, counter, createWriteStream(this.uploadPath(session.id), { flags: 'a' }));
    } catch (error) {
      session.hash = before.hash;
      session.size = before.size;
      await truncate(this.uploadPath(session.id), before.size).catch(() => {});
      throw error;
    }
    if (!this.sessions.isOpen(session)) await rm(this.uploadPath(session.id), { force: true });
    return session.size;
  }

  /**
   * Ends a claimed upload: only if both the running hash and a fresh hash of the bytes on disk
   * equal `digest` does the file become that blob, and an existing blob is never replaced.
   */
  async finishUpload(session: UploadSession, digest: string): Promise<'stored' | 'mismatch'> {
    this.sessions.close(session);
    const path = this.uploadPath(session.id);
    const running = `sha256:${session.hash.digest('hex')}`;
    if (running !== digest || (await hashFile(path)) !== digest) {
      await rm(path, { force: true });
      return 'mismatch';
    }
    await placeOnce(path, this.blobPath(digest));
    await this.linkBlob(session.repo, digest);
    return 'stored';
  }

  async cancelUpload(id: string, repo: string): Promise<boolean> {
    const session = this.sessions.find(id, repo);
    if (session === undefined) return false;
    this.sessions.close(session);
    await rm(this.uploadPath(id), { force: true });
    return true;
  }

  /** Drops uploads idle for longer than the TTL with their files; returns how many. */
  async expireUploads(): Promise<number> {
    const expired = this.sessions.takeExpired();
    for (const session of expired) await rm(this.uploadPath(session.id), { force: true });
    return expired.length;
  }

  async putManifest(repo: string, tag: string | undefined, bytes: Buffer, mediaType: string): Promise<string> {
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    await writeOnce(this.blobPath(digest), bytes);
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
        .filter((name) => !name.startsWith('.') && !TEMP_FILE.test(name))
        .sort();
    } catch {
      return (await exists(join(this.root, 'repositories', repo))) ? [] : undefined;
    }
  }

  private uploadPath(id: string): string {
    return join(this.root, 'uploads', id);
  }
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
