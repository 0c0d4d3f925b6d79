import { createHash } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ExternalError } from '../../core/errors.js';
import { MANIFEST_MEDIA_TYPES } from '../../core/oci/manifest.js';
import { type RegistryCredentials, RegistrySession } from './registry-session.js';

export interface RegistryClientOptions {
  readonly credentials?: RegistryCredentials | undefined;
  /** Plain HTTP; the default for loopback registries. */
  readonly insecure?: boolean;
  /** Blobs larger than this go up in chunks of this size (raised to minChunkSize). */
  readonly chunkSize?: number;
  /** The smallest chunk the registry accepts, except the last (ECR: 5 MiB). */
  readonly minChunkSize?: number;
}

export interface BlobSource {
  readonly digest: string;
  readonly size: number;
  /** Opens the bytes [start, end] (inclusive), so chunks and retries re-read from disk. */
  open(start: number, end: number): Readable;
}

export interface FetchedManifest {
  readonly digest: string;
  readonly mediaType: string;
  readonly bytes: Buffer;
}

const DEFAULT_CHUNK = 32 * 1024 * 1024;
const ACCEPT_MANIFESTS = MANIFEST_MEDIA_TYPES.join(', ');

/**
 * A client for the OCI distribution API (github.com/opencontainers/distribution-spec, spec.md).
 * It authenticates as the registry asks (Basic, or Bearer tokens fetched from the realm in the
 * `WWW-Authenticate` challenge, one per repository scope), streams every blob from and to disk,
 * verifies digests, and never forwards credentials to another host on a redirect.
 */
export class RegistryClient {
  private readonly session: RegistrySession;

  constructor(
    readonly registry: string,
    private readonly options: RegistryClientOptions = {},
  ) {
    this.session = new RegistrySession(registry, options);
  }

  async ping(): Promise<void> {
    const response = await this.session.send('GET', '/v2/', { scope: '' });
    await this.session.expect(response, [200], 'ping');
  }

  async blobExists(repo: string, digest: string): Promise<boolean> {
    const response = await this.session.send('HEAD', `/v2/${repo}/blobs/${digest}`, { scope: pull(repo) });
    await response.body.dump();
    if (response.statusCode === 404) return false;
    await this.session.expect(response, [200], `check blob ${digest} in ${repo}`);
    return true;
  }

  /**
   * Asks the registry to link a blob another repository holds (spec.md, "Mounting a blob from
   * another repository"). A registry that cannot mount opens an upload instead; that upload is
   * cancelled here and false returned, so the caller uploads the bytes.
   */
  async mountBlob(repo: string, digest: string, from: string): Promise<boolean> {
    const response = await this.session.send('POST', `/v2/${repo}/blobs/uploads/?mount=${digest}&from=${from}`, {
      scope: push(repo, from),
      headers: { 'content-length': '0' },
    });
    await response.body.dump();
    if (response.statusCode === 201) return true;
    await this.session.expect(response, [202], `mount ${digest} from ${from} into ${repo}`);
    const cancelled = await this.session.send('DELETE', this.session.location(response, repo), {
      scope: push(repo, from),
    });
    await cancelled.body.dump();
    return false;
  }

  /** Uploads a blob unless the repository has it, mounting it from `mountFrom` when possible. */
  async uploadBlob(repo: string, blob: BlobSource, mountFrom?: string): Promise<'exists' | 'mounted' | 'uploaded'> {
    if (await this.blobExists(repo, blob.digest)) return 'exists';
    if (mountFrom !== undefined && (await this.mountBlob(repo, blob.digest, mountFrom))) return 'mounted';
    const scope = push(repo);
    const started = await this.session.send('POST', `/v2/${repo}/blobs/uploads/`, {
      scope,
      headers: { 'content-length': '0' },
    });
    await started.body.dump();
    await this.session.expect(started, [202], `start upload to ${repo}`);
    let location = this.session.location(started, repo);
    const chunk = Math.max(this.options.chunkSize ?? DEFAULT_CHUNK, this.options.minChunkSize ?? 0);
    if (blob.size > chunk) {
      for (let start = 0; start < blob.size; start += chunk) {
        const end = Math.min(blob.size, start + chunk) - 1;
        const patched = await this.session.send('PATCH', location, {
          scope,
          body: blob.open(start, end),
          headers: {
            'content-type': 'application/octet-stream',
            'content-range': `${start}-${end}`,
            'content-length': String(end - start + 1),
          },
        });
        await patched.body.dump();
        await this.session.expect(patched, [202], `upload chunk ${start}-${end} of ${blob.digest}`);
        location = this.session.location(patched, repo);
      }
      const finished = await this.session.send('PUT', withDigest(location, blob.digest), {
        scope,
        headers: { 'content-length': '0' },
      });
      await this.session.expect(finished, [201], `finish upload of ${blob.digest}`);
      return 'uploaded';
    }
    const put = await this.session.send('PUT', withDigest(location, blob.digest), {
      scope,
      body: blob.size === 0 ? Buffer.alloc(0) : blob.open(0, blob.size - 1),
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(blob.size) },
    });
    await this.session.expect(put, [201], `upload ${blob.digest}`);
    return 'uploaded';
  }

  /** Streams a blob into `destination`, failing if its bytes do not hash to `digest`. */
  async downloadBlob(repo: string, digest: string, destination: Writable): Promise<number> {
    const response = await this.session.send('GET', `/v2/${repo}/blobs/${digest}`, { scope: pull(repo) });
    await this.session.expect(response, [200], `download blob ${digest} from ${repo}`);
    const hash = createHash(digest.split(':')[0] ?? 'sha256');
    let size = 0;
    await pipeline(
      response.body,
      async function* (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          hash.update(chunk);
          size += chunk.length;
          yield chunk;
        }
      },
      destination,
    );
    const actual = `${digest.split(':')[0]}:${hash.digest('hex')}`;
    if (actual !== digest) {
      throw new ExternalError('DIGEST_MISMATCH', `blob ${digest} from ${this.registry}/${repo} hashed to ${actual}`, {
        hint: 'the registry or something between it and you corrupted the content; nothing was kept',
      });
    }
    return size;
  }

  async putManifest(repo: string, reference: string, bytes: Buffer, mediaType: string): Promise<string> {
    const response = await this.session.send('PUT', `/v2/${repo}/manifests/${reference}`, {
      scope: push(repo),
      body: bytes,
      headers: { 'content-type': mediaType, 'content-length': String(bytes.length) },
    });
    await this.session.expect(response, [201], `push manifest ${repo}:${reference}`);
    return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  }

  /** The manifest at a tag or digest, or undefined when the registry does not have it. */
  async getManifest(repo: string, reference: string): Promise<FetchedManifest | undefined> {
    const response = await this.session.send('GET', `/v2/${repo}/manifests/${reference}`, {
      scope: pull(repo),
      headers: { accept: ACCEPT_MANIFESTS },
    });
    if (response.statusCode === 404) {
      await response.body.dump();
      return undefined;
    }
    await this.session.expect(response, [200], `get manifest ${repo}:${reference}`);
    const bytes = Buffer.from(await response.body.arrayBuffer());
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if (reference.includes(':') && reference !== digest) {
      throw new ExternalError(
        'DIGEST_MISMATCH',
        `manifest ${reference} from ${this.registry}/${repo} hashed to ${digest}`,
      );
    }
    // spec.md, "Pulling manifests": a client that uses Docker-Content-Digest MUST verify it
    // against the manifest it got; for a tag it is the only digest there is to check against.
    const announced = response.headers['docker-content-digest'];
    if (typeof announced === 'string' && announced.startsWith('sha256:') && announced !== digest) {
      throw new ExternalError(
        'DIGEST_MISMATCH',
        `manifest ${repo}:${reference} from ${this.registry} hashed to ${digest}, but the registry says ${announced}`,
      );
    }
    const mediaType = String(response.headers['content-type'] ?? '').split(';')[0] ?? '';
    return { digest, mediaType, bytes };
  }

  async resolveTag(repo: string, tag: string): Promise<string | undefined> {
    return (await this.getManifest(repo, tag))?.digest;
  }

  async listTags(repo: string): Promise<string[]> {
    const tags: string[] = [];
    let path: string | undefined = `/v2/${repo}/tags/list?n=1000`;
    while (path !== undefined) {
      const response = await this.session.send('GET', path, { scope: pull(repo) });
      if (response.statusCode === 404) {
        await response.body.dump();
        return tags;
      }
      await this.session.expect(response, [200], `list tags of ${repo}`);
      const page = (await response.body.json()) as { tags?: string[] | null };
      tags.push(...(page.tags ?? []));
      const link = /<([^>]+)>;\s*rel="next"/.exec(String(response.headers.link ?? ''));
      path = link?.[1];
    }
    return tags;
  }
}

function pull(repo: string): string {
  return `repository:${repo}:pull`;
}

function push(repo: string, mountFrom?: string): string {
  return mountFrom === undefined
    ? `repository:${repo}:pull,push`
    : `repository:${repo}:pull,push repository:${mountFrom}:pull`;
}

function withDigest(location: string, digest: string): string {
  return `${location}${location.includes('?') ? '&' : '?'}digest=${encodeURIComponent(digest)}`;
}
