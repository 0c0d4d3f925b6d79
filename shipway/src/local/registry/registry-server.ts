import { createHash } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { isValidDigest } from '../../core/image-ref.js';
import { MANIFEST_MEDIA_TYPES, parseManifest } from '../../core/oci/manifest.js';
import { isValidRepositoryName, isValidTagName } from '../../core/oci/repository-name.js';
import { BlobStore, isStorableDigest } from './blob-store.js';
import { type Access, anonymousAuth, type RegistryAuth } from './registry-auth.js';

export interface RegistryServerOptions {
  readonly dir: string;
  readonly auth?: RegistryAuth;
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

function fail(reply: FastifyReply, status: number, code: string, message: string, detail?: unknown) {
  return reply
    .code(status)
    .header('content-type', 'application/json')
    .send({ errors: [{ code, message, ...(detail === undefined ? {} : { detail }) }] });
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
  const store = new BlobStore(options.dir);
  await store.init();
  const auth = options.auth ?? anonymousAuth;
  const app = Fastify({ logger: false, bodyLimit: MAX_MANIFEST_BYTES });
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
    const context = { store, request, reply, url };
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

interface Context {
  readonly store: BlobStore;
  readonly request: FastifyRequest;
  readonly reply: FastifyReply;
  readonly url: URL;
}

async function blobRoute({ store, request, reply }: Context, repo: string, digest: string) {
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

function uploadLocation(reply: FastifyReply, repo: string, id: string, size: number) {
  return reply
    .header('location', `/v2/${repo}/blobs/uploads/${id}`)
    .header('docker-upload-uuid', id)
    .header('range', `0-${Math.max(0, size - 1)}`);
}

async function storeBody(store: BlobStore, request: FastifyRequest, repo: string, id: string) {
  try {
    return await store.appendToUpload(id, repo, request.raw);
  } catch {
    return undefined;
  }
}

async function uploadsRoute({ store, request, reply, url }: Context, repo: string) {
  if (request.method !== 'POST') return fail(reply, 405, 'UNSUPPORTED', 'use POST to start an upload');
  const mount = url.searchParams.get('mount');
  const from = url.searchParams.get('from');
  if (
    mount !== null &&
    from !== null &&
    isValidRepositoryName(from) &&
    isStorableDigest(mount) &&
    (await store.repoHasBlob(from, mount))
  ) {
    await store.linkBlob(repo, mount);
    return reply
      .code(201)
      .header('location', `/v2/${repo}/blobs/${mount}`)
      .header('docker-content-digest', mount)
      .send();
  }
  const id = await store.startUpload(repo);
  const digest = url.searchParams.get('digest');
  if (digest === null) return uploadLocation(reply, repo, id, 0).code(202).send();
  // A monolithic upload in one POST.
  if (!isStorableDigest(digest)) {
    await store.cancelUpload(id, repo);
    return fail(reply, 400, 'DIGEST_INVALID', `unsupported digest ${JSON.stringify(digest)}`);
  }
  if ((await storeBody(store, request, repo, id)) === undefined) {
    await store.cancelUpload(id, repo);
    return fail(reply, 400, 'BLOB_UPLOAD_INVALID', 'the upload was interrupted');
  }
  return finish(store, reply, repo, id, digest);
}

async function finish(store: BlobStore, reply: FastifyReply, repo: string, id: string, digest: string) {
  if ((await store.finishUpload(id, repo, digest)) === 'mismatch') {
    return fail(reply, 400, 'DIGEST_INVALID', `uploaded content does not match digest ${digest}`);
  }
  return reply
    .code(201)
    .header('location', `/v2/${repo}/blobs/${digest}`)
    .header('docker-content-digest', digest)
    .send();
}

async function uploadRoute({ store, request, reply, url }: Context, repo: string, id: string) {
  const size = store.uploadSize(id, repo);
  if (size === undefined) return fail(reply, 404, 'BLOB_UPLOAD_UNKNOWN', `no upload ${id} in ${repo}`);
  if (request.method === 'GET') return uploadLocation(reply, repo, id, size).code(204).send();
  if (request.method === 'DELETE') {
    await store.cancelUpload(id, repo);
    return reply.code(204).send();
  }
  const range = request.headers['content-range'];
  if (request.method === 'PATCH' && range !== undefined) {
    const start = Number(/^(\d+)-\d+$/.exec(range)?.[1] ?? Number.NaN);
    if (start !== size) return uploadLocation(reply, repo, id, size).code(416).send();
  }
  if (request.method !== 'PATCH' && request.method !== 'PUT')
    return fail(reply, 405, 'UNSUPPORTED', 'use PATCH or PUT');
  const hasBody =
    Number(request.headers['content-length'] ?? '0') > 0 || request.headers['transfer-encoding'] !== undefined;
  const newSize = hasBody ? await storeBody(store, request, repo, id) : size;
  if (newSize === undefined)
    return fail(reply, 400, 'BLOB_UPLOAD_INVALID', 'the upload was interrupted; resume from the reported range');
  if (request.method === 'PATCH') return uploadLocation(reply, repo, id, newSize).code(202).send();
  const digest = url.searchParams.get('digest');
  if (digest === null || !isStorableDigest(digest)) {
    await store.cancelUpload(id, repo);
    return fail(reply, 400, 'DIGEST_INVALID', 'PUT needs ?digest=sha256:<64 hex>');
  }
  return finish(store, reply, repo, id, digest);
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

async function manifestRoute({ store, request, reply }: Context, repo: string, reference: string) {
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

async function tagsRoute({ store, reply, url }: Context, repo: string) {
  const tags = await store.listTags(repo);
  if (tags === undefined) return fail(reply, 404, 'NAME_UNKNOWN', `repository ${repo} is not known`);
  const last = url.searchParams.get('last');
  const n = Number(url.searchParams.get('n') ?? Number.POSITIVE_INFINITY);
  const after = last === null ? tags : tags.filter((tag) => tag > last);
  return reply.send({ name: repo, tags: after.slice(0, Number.isFinite(n) ? n : undefined) });
}
