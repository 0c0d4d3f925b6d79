import { UsageError } from './errors.js';

/**
 * An OCI image reference, split the way the distribution reference grammar splits it
 * (github.com/distribution/reference, "reference.go"): `repository[:tag][@digest]`, where the
 * repository may start with a registry host (with a port) and the tag is at most 128 characters.
 */
export interface ImageRef {
  readonly repository: string;
  readonly tag: string | null;
  readonly digest: string | null;
}

const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const HOST =
  '(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?';
const REPOSITORY = new RegExp(`^(?:${HOST}/)?${COMPONENT}(?:/${COMPONENT})*$`);
const TAG = /^[\w][\w.-]{0,127}$/;
// OCI image-spec v1.1.1 descriptor.md, "Digests": the grammar every digest string must match (with
// at least 32 encoded characters, as the distribution reference grammar asks).
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
// Same file, "Registered algorithms": sha256 and sha512, whose encoded part MUST be lowercase hex
// of the hash's length ("[A-F] MUST NOT be used").
const REGISTERED: ReadonlyMap<string, RegExp> = new Map([
  ['sha256', /^[a-f0-9]{64}$/],
  ['sha512', /^[a-f0-9]{128}$/],
]);

export function isValidRepository(repository: string): boolean {
  return repository.length <= 255 && REPOSITORY.test(repository);
}

export function isValidTag(tag: string): boolean {
  return TAG.test(tag);
}

/**
 * A digest as the distribution API may carry it (the embedded registry's routes, manifests):
 * it matches the OCI grammar, and a registered algorithm has its exact encoding. The spec asks
 * implementations to let unregistered algorithms through, so `sha384:…` passes here.
 */
export function isValidDigest(digest: string): boolean {
  if (!DIGEST.test(digest)) return false;
  const encoding = REGISTERED.get(digest.slice(0, digest.indexOf(':')));
  return encoding === undefined || encoding.test(digest.slice(digest.indexOf(':') + 1));
}

/**
 * A digest shipway will pin an image by, from the user or a file: a registered OCI algorithm
 * only (`sha256:` + 64, `sha512:` + 128 lowercase hex), so a typo or `md5:` never reaches a
 * kustomization, a gate or a rollback.
 */
export function isPinnableDigest(digest: string): boolean {
  const colon = digest.indexOf(':');
  const encoding = REGISTERED.get(digest.slice(0, colon));
  return colon > 0 && encoding !== undefined && encoding.test(digest.slice(colon + 1));
}

/** What a pinnable digest looks like, for the hints of every command that takes one. */
export const PINNABLE_DIGEST_HINT = 'a digest is sha256:<64 lowercase hex> or sha512:<128 lowercase hex>';

/** Parses `repo[:tag][@digest]`; throws UsageError naming what is wrong. */
export function parseImageRef(text: string): ImageRef {
  const invalid = (why: string) =>
    new UsageError('IMAGE_REF_INVALID', `invalid image reference ${JSON.stringify(text)}: ${why}`, {
      hint: `use repository[:tag][@digest], e.g. registry.example.com/team/hello:1.2.0@sha256:…; ${PINNABLE_DIGEST_HINT}`,
    });
  const at = text.indexOf('@');
  const named = at === -1 ? text : text.slice(0, at);
  const digest = at === -1 ? null : text.slice(at + 1);
  if (digest !== null && !isPinnableDigest(digest)) throw invalid(`bad digest ${JSON.stringify(digest)}`);
  const colon = named.lastIndexOf(':');
  const hasTag = colon > named.lastIndexOf('/');
  const repository = hasTag ? named.slice(0, colon) : named;
  const tag = hasTag ? named.slice(colon + 1) : null;
  if (!isValidRepository(repository)) throw invalid(`bad repository ${JSON.stringify(repository)}`);
  if (tag !== null && !isValidTag(tag)) throw invalid(`bad tag ${JSON.stringify(tag)}`);
  return { repository, tag, digest };
}

export function formatImageRef(ref: ImageRef): string {
  return `${ref.repository}${ref.tag === null ? '' : `:${ref.tag}`}${ref.digest === null ? '' : `@${ref.digest}`}`;
}

/** `tag@digest`, the short form commit messages and tables use. */
export function formatVersion(ref: Pick<ImageRef, 'tag' | 'digest'>): string {
  return [ref.tag ?? '', ref.digest === null ? '' : `@${ref.digest}`].join('') || '(none)';
}
