import type { FastifyReply, FastifyRequest } from 'fastify';
import { isValidRepositoryName } from '../../core/oci/repository-name.js';
import { type BlobStore, isStorableDigest } from './blob-store.js';
import { fail, type RegistryContext } from './registry-context.js';
import type { UploadSession } from './upload-sessions.js';

/** Location, upload id and the bytes received so far (`Range: 0-<last byte>`), spec.md "Pushing a blob in chunks". */
function uploadLocation(reply: FastifyReply, repo: string, id: string, size: number) {
  return reply
    .header('location', `/v2/${repo}/blobs/uploads/${id}`)
    .header('docker-upload-uuid', id)
    .header('range', `0-${Math.max(0, size - 1)}`);
}

function rangeInvalid(reply: FastifyReply, repo: string, id: string, size: number) {
  uploadLocation(reply, repo, id, size);
  return fail(reply, 416, 'RANGE_INVALID', `the upload has ${size} bytes; send the chunk that starts there`);
}

type ChunkRange = { readonly start: number; readonly end: number } | 'invalid' | undefined;

/**
 * A chunk's Content-Range: `^[0-9]+-[0-9]+$`, inclusive on both ends (spec.md, "Pushing a blob in
 * chunks"). A range that does not parse or ends before it starts is invalid, as in distribution's
 * PatchBlobData (registry/handlers/blobupload.go: `start > end` is RANGE_INVALID).
 */
function chunkRangeOf(header: string | undefined): ChunkRange {
  if (header === undefined) return undefined;
  const match = /^(\d{1,15})-(\d{1,15})$/.exec(header);
  if (match === null) return 'invalid';
  const [start, end] = [Number(match[1]), Number(match[2])];
  return end < start ? 'invalid' : { start, end };
}

function hasBody(request: FastifyRequest): boolean {
  return Number(request.headers['content-length'] ?? '0') > 0 || request.headers['transfer-encoding'] !== undefined;
}

async function storeBody(store: BlobStore, request: FastifyRequest, session: UploadSession) {
  if (!hasBody(request)) return session.size;
  try {
    return await store.appendToUpload(session, request.raw);
  } catch {
    return undefined;
  }
}

/**
 * A mount needs pull on the source as well as push on the target (distribution's App.authorized
 * adds a pull record for `from`). Where the source cannot lend the blob, or the caller may not
 * pull it, the POST starts an ordinary upload instead: spec.md "Mounting a blob from another
 * repository" says a registry unable to mount SHOULD answer 202. (distribution itself answers 401.)
 */
async function mountable({ store, auth, request }: RegistryContext, mount: string | null, from: string | null) {
  if (mount === null || from === null || !isValidRepositoryName(from) || !isStorableDigest(mount)) return false;
  const pull = await auth.check(request.headers.authorization, { repo: from, action: 'pull' });
  return pull.ok && (await store.repoHasBlob(from, mount));
}

/** POST /v2/<name>/blobs/uploads/: a mount, a monolithic upload (?digest=), or a new session. */
export async function uploadsRoute(context: RegistryContext, repo: string) {
  const { store, request, reply, url } = context;
  if (request.method !== 'POST') return fail(reply, 405, 'UNSUPPORTED', 'use POST to start an upload');
  const mount = url.searchParams.get('mount');
  if (mount !== null && (await mountable(context, mount, url.searchParams.get('from')))) {
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
  const claim = store.claimUpload(id, repo);
  if (claim.kind !== 'claimed') return fail(reply, 404, 'BLOB_UPLOAD_UNKNOWN', `upload ${id} ended early`);
  const written = await writeAndFinish(context, repo, claim.session, digest);
  // Nobody else knows this upload's id, so one that did not finish can only be dropped.
  if (store.uploadIsOpen(claim.session)) await store.cancelUpload(id, repo);
  return written;
}

/** GET, PATCH, PUT and DELETE on /v2/<name>/blobs/uploads/<id>. */
export async function uploadRoute(context: RegistryContext, repo: string, id: string) {
  const { store, request, reply } = context;
  const size = store.uploadSize(id, repo);
  if (size === undefined) return fail(reply, 404, 'BLOB_UPLOAD_UNKNOWN', `no upload ${id} in ${repo}`);
  if (request.method === 'GET') return uploadLocation(reply, repo, id, size).code(204).send();
  if (request.method === 'DELETE') {
    await store.cancelUpload(id, repo);
    return reply.code(204).send();
  }
  if (request.method !== 'PATCH' && request.method !== 'PUT')
    return fail(reply, 405, 'UNSUPPORTED', 'use PATCH or PUT');
  const range = chunkRangeOf(request.headers['content-range']);
  if (range === 'invalid') return rangeInvalid(reply, repo, id, size);
  const length = request.headers['content-length'];
  if (range !== undefined && length !== undefined && Number(length) !== range.end - range.start + 1)
    return fail(
      reply,
      400,
      'SIZE_INVALID',
      `Content-Length ${length} does not match Content-Range ${range.start}-${range.end}`,
    );
  const claim = store.claimUpload(id, repo, range?.start);
  if (claim.kind === 'unknown') return fail(reply, 404, 'BLOB_UPLOAD_UNKNOWN', `no upload ${id} in ${repo}`);
  if (claim.kind !== 'claimed') return rangeInvalid(reply, repo, id, claim.size);
  try {
    if (request.method === 'PUT')
      return await writeAndFinish(context, repo, claim.session, context.url.searchParams.get('digest'));
    const newSize = await storeBody(store, request, claim.session);
    if (newSize === undefined)
      return fail(reply, 400, 'BLOB_UPLOAD_INVALID', 'the upload was interrupted; resume from the reported range');
    if (!store.uploadIsOpen(claim.session))
      return fail(reply, 404, 'BLOB_UPLOAD_UNKNOWN', `upload ${id} was cancelled`);
    return uploadLocation(reply, repo, id, newSize).code(202).send();
  } finally {
    store.releaseUpload(claim.session);
  }
}

/** The closing PUT (or a monolithic POST): the last bytes if any, then verify and store. */
async function writeAndFinish(
  { store, request, reply }: RegistryContext,
  repo: string,
  session: UploadSession,
  digest: string | null,
) {
  if (digest === null || !isStorableDigest(digest)) {
    await store.cancelUpload(session.id, repo);
    return fail(reply, 400, 'DIGEST_INVALID', 'the upload needs ?digest=sha256:<64 hex>');
  }
  if ((await storeBody(store, request, session)) === undefined)
    return fail(reply, 400, 'BLOB_UPLOAD_INVALID', 'the upload was interrupted; resume from the reported range');
  if (!store.uploadIsOpen(session))
    return fail(reply, 404, 'BLOB_UPLOAD_UNKNOWN', `upload ${session.id} was cancelled`);
  if ((await store.finishUpload(session, digest)) === 'mismatch')
    return fail(reply, 400, 'DIGEST_INVALID', `uploaded content does not match digest ${digest}`);
  return reply
    .code(201)
    .header('location', `/v2/${repo}/blobs/${digest}`)
    .header('docker-content-digest', digest)
    .send();
}
