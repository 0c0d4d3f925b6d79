import { createHash } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { isValidDigest } from '../../core/image-ref.js';
import { MANIFEST_MEDIA_TYPES, parseManifest } from '../../core/oci/manifest.js';
import { isValidRepositoryName, isValidTagName } from '../../core/oci/repository-name.js';
import { BlobStore, isStorableDigest } from './blob-store.js';
import { type Access, anonymousAuth, type RegistryAuth } from './registry-auth.js';
import { fail, type RegistryContext } from './registry-context.js';
import { uploadRoute, uploadsRoute } from './upload-routes.js';
import { DEFAULT_UPLOAD_TTL_MS } from './upload-sessions.js';

export interface RegistryServerOptions {
  readonly dir: string;
  readonly auth?: RegistryAuth;
  /** How long an unfinished upload may sit idle before it and its file are dropped (default 1 h). */
  readonly uploadTtlMs?: number;
  /** Called for every request with its method, path and body size, for tests and logs. */
  readonly onRequest?: (event: {
    method: string;
    path: string;
    contentRange?: string | undefined;
    bytes?: number;
  }) => void;
}

const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

type Route =
  | { kind: 'base' }
  | { kind: 'blob'; repo: string; digest: string }
  | { kind: 'uploads'; repo: string }
  | { kind: 'upload'; repo: string; id: string }
  | { kind: 'manifest'; repo: string; reference: string }
  | { kind: 'tags'; repo: string }
  | { kind: 'invalid-name'; name: string }
  | { kind: 'unknown' };

function decode(part: string | undefined): string | undefined {
  try {
    return part === undefined ? undefined : decodeURIComponent(part);
  } catch {
    return '%invalid';
  }
}

/**
 * Maps a raw, undecoded /v2/ path to a route of the distribution API (spec.md, "Endpoints").
 * Each part is decoded on its own after matching, so an encoded `/` or `..` cannot change the
 * route; names, digests and tags are then checked against the spec's grammars.
 */
export function routeOf(rawPath: string): Route {
  if (rawPath === '/v2/' || rawPath === '/v2') return { kind: 'base' };
  const match = /^\/v2\/(.+?)\/(blobs\/uploads\/?([^/]*)|blobs\/([^/]+)|manifests\/([^/]+)|tags\/list)$/.exec(rawPath);
  if (match === null) return { kind: 'unknown' };
  const repo = decode(match[1]) ?? '';
  if (!isValidRepositoryName(repo)) return { kind: 'invalid-name', name: repo };
  const what = match[2] ?? '';
  const [id, digest, reference] = [decode(match[3]), decode(match[4]), decode(match[5])];
  if (what.startsWith('blobs/uploads')) return id ? { kind: 'upload', repo, id } : { kind: 'uploads', repo };
  if (digest !== undefined) return { kind: 'blob', repo, digest };
  if (reference !== undefined) return { kind: 'manifest', repo, reference };
  return { kind: 'tags', repo };
}

function accessOf(route: Route, method: string): Access {
  if (!('repo' in route)) return { repo: null };
  return { repo: route.repo, action: method === 'GET' || method === 'HEAD' ? 'pull' : 'push' };
}

/**
 * The embedded OCI distribution registry: enough of the distribution spec for skopeo, buildah,
 * containerd-style clients and shipway's own client to push and pull images (blobs, monolithic
 * and chunked uploads, cross-repository mounts, manifests by tag and digest, tag listing).
 */
export async function createRegistryServer(options: RegistryServerOptions): Promise<FastifyInstance> {
  const ttl = options.uploadTtlMs ?? DEFAULT_UPLOAD_TTL_MS;
  if (!(ttl > 0)) throw new RangeError(`uploadTtlMs must be positive, got ${ttl}`);
  const store = new BlobStore(options.dir, { uploadTtlMs: ttl });
  await store.init();
  const auth = options.auth ?? anonymousAuth;
  // A socket silent for the upload TTL is closed: a writer that stalls mid-body (or vanished
  // without closing TCP) would otherwise hold its upload's writer claim, and so the upload, forever.
  const app = Fastify({ logger: false, bodyLimit: MAX_MANIFEST_BYTES, connectionTimeout: Math.ceil(ttl) });
  // Expired uploads are invisible at once (UploadSessions.find); the sweep removes their files.
  const sweep = setInterval(() => void store.expireUploads().catch(() => {}), sweepInterval(ttl));
  sweep.unref();
  app.addHook('onClose', async () => clearInterval(sweep));
  // Blob bodies are streamed to disk by the handlers; Fastify must not parse or buffer them.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));

  app.addHook('onSend', async (_request, reply) => {
    reply.header('docker-distribution-api-version', 'registry/2.0');
  });

  const handle = async (request: FastifyRequest, reply: FastifyReply) => {
    const url = new URL(request.url, 'http://registry');
    const route = routeOf(request.url.split('?')[0] ?? '');
    options.onRequest?.({
      method: request.method,
      path: url.pathname,
      contentRange: request.headers['content-range'],
      bytes: Number(request.headers['content-length'] ?? 0),
    });
    if (route.kind === 'unknown') return fail(reply, 404, 'NOT_FOUND', 'no such endpoint');
    if (route.kind === 'invalid-name')
      return fail(reply, 400, 'NAME_INVALID', `invalid repository name ${JSON.stringify(route.name)}`);
    const decision = await auth.check(request.headers.authorization, accessOf(route, request.method));
    if (!decision.ok) {
      reply.header('www-authenticate', decision.challenge);
      return fail(reply, decision.status, 'UNAUTHORIZED', 'authentication required');
    }
    const context: RegistryContext = { store, auth, request, reply, url };
    switch (route.kind) {
      case 'base':
        return reply.send({});
      case 'blob':
        return blobRoute(context, route.repo, route.digest);
      case 'uploads':
        return uploadsRoute(context, route.repo);
      case 'upload':
        return uploadRoute(context, route.repo, route.id);
      case 'manifest':
        return manifestRoute(context, route.repo, route.reference);
      case 'tags':
        return tagsRoute(context, route.repo);
    }
  };
  app.route({ method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'], url: '/v2', handler: handle });
  app.route({ method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'], url: '/v2/*', handler: handle });
  return app;
}

function sweepInterval(ttlMs: number): number {
  return Math.min(60_000, Math.max(50, Math.floor(ttlMs / 4)));
}

async function blobRoute({ store, request, reply }: RegistryContext, repo: string, digest: string) {
  if (!isValidDigest(digest)) return fail(reply, 400, 'DIGEST_INVALID', `invalid digest ${JSON.stringify(digest)}`);
  if (request.method === 'DELETE') return fail(reply, 405, 'UNSUPPORTED', 'blob deletion is not enabled');
  const size =
    isStorableDigest(digest) && (await store.repoHasBlob(repo, digest)) ? await store.blobSize(digest) : undefined;
  if (size === undefined) return fail(reply, 404, 'BLOB_UNKNOWN', `blob ${digest} is not in ${repo}`);
  reply
    .header('content-length', size)
    .header('docker-content-digest', digest)
    .header('content-type', 'application/octet-stream');
  if (request.method === 'HEAD') return reply.code(200).send();
  return reply.code(200).send(store.blobStream(digest));
}

async function readLimited(request: FastifyRequest): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request.raw) {
    size += (chunk as Buffer).length;
    if (size > MAX_MANIFEST_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

async function manifestRoute({ store, request, reply }: RegistryContext, repo: string, reference: string) {
  const byDigest = reference.includes(':');
  if (byDigest ? !isStorableDigest(reference) : !isValidTagName(reference)) {
    return fail(
      reply,
      400,
      byDigest ? 'DIGEST_INVALID' : 'TAG_INVALID',
      `invalid reference ${JSON.stringify(reference)}`,
    );
  }
  if (request.method === 'PUT') return putManifest(store, request, reply, repo, reference, byDigest);
  if (request.method !== 'GET' && request.method !== 'HEAD')
    return fail(reply, 405, 'UNSUPPORTED', 'manifest deletion is not enabled');
  const manifest = await store.getManifest(repo, reference);
  if (manifest === undefined) return fail(reply, 404, 'MANIFEST_UNKNOWN', `manifest ${reference} is not in ${repo}`);
  reply
    .header('content-type', manifest.mediaType)
    .header('docker-content-digest', manifest.digest)
    .header('content-length', manifest.bytes.length);
  return reply.code(200).send(request.method === 'HEAD' ? undefined : manifest.bytes);
}

async function putManifest(
  store: BlobStore,
  request: FastifyRequest,
  reply: FastifyReply,
  repo: string,
  reference: string,
  byDigest: boolean,
) {
  const mediaType = (request.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
  if (!MANIFEST_MEDIA_TYPES.includes(mediaType))
    return fail(reply, 400, 'MANIFEST_INVALID', `unsupported manifest media type ${JSON.stringify(mediaType)}`);
  const bytes = await readLimited(request);
  if (bytes === undefined)
    return fail(reply, 413, 'SIZE_INVALID', `manifests are limited to ${MAX_MANIFEST_BYTES} bytes`);
  const parsed = parseManifest(bytes, mediaType);
  if (parsed.kind === 'invalid') return fail(reply, 400, 'MANIFEST_INVALID', parsed.reason);
  const missing =
    parsed.kind === 'image'
      ? await firstMissing(
          [parsed.manifest.config, ...parsed.manifest.layers].map((d) => d.digest),
          (d) => store.repoHasBlob(repo, d),
        )
      : await firstMissing(
          parsed.index.manifests.map((d) => d.digest),
          async (d) => (await store.getManifest(repo, d)) !== undefined,
        );
  if (missing !== undefined)
    return fail(reply, 400, 'MANIFEST_BLOB_UNKNOWN', `referenced ${missing} is not in ${repo}`);
  const actual = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  if (byDigest && actual !== reference)
    return fail(reply, 400, 'DIGEST_INVALID', `manifest digest is ${actual}, not ${reference}`);
  const digest = await store.putManifest(repo, byDigest ? undefined : reference, bytes, mediaType);
  return reply
    .code(201)
    .header('location', `/v2/${repo}/manifests/${digest}`)
    .header('docker-content-digest', digest)
    .send();
}

async function firstMissing(digests: readonly string[], has: (digest: string) => Promise<boolean>) {
  for (const digest of digests) if (!isStorableDigest(digest) || !(await has(digest))) return digest;
  return undefined;
}

/**
 * GET /v2/<name>/tags/list?n=&last= (spec.md, "Listing Tags"). `n` must be a non-negative integer
 * (distribution's GetTags answers PAGINATION_NUMBER_INVALID otherwise) and n=0 lists nothing;
 * `last` must be a tag name. Tags are listed in lexical order, after `last`.
 */
async function tagsRoute({ store, reply, url }: RegistryContext, repo: string) {
  const n = url.searchParams.get('n') ?? '';
  const last = url.searchParams.get('last') ?? '';
  if (n !== '' && !/^\d+$/.test(n))
    return fail(reply, 400, 'PAGINATION_NUMBER_INVALID', `n must be a non-negative integer, got ${JSON.stringify(n)}`);
  if (last !== '' && !isValidTagName(last))
    return fail(reply, 400, 'TAG_INVALID', `last must be a tag name, got ${JSON.stringify(last)}`);
  const tags = await store.listTags(repo);
  if (tags === undefined) return fail(reply, 404, 'NAME_UNKNOWN', `repository ${repo} is not known`);
  const after = last === '' ? tags : tags.filter((tag) => tag > last);
  return reply.send({ name: repo, tags: n === '' ? after : after.slice(0, Number(n)) });
}
