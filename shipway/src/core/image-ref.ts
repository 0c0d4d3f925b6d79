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
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const SHA256 = /^sha256:[a-f0-9]{64}$/;

export function isValidRepository(repository: string): boolean {
  return repository.length <= 255 && REPOSITORY.test(repository);
}

export function isValidTag(tag: string): boolean {
  return TAG.test(tag);
}

export function isValidDigest(digest: string): boolean {
  return DIGEST.test(digest) && (!digest.startsWith('sha256:') || SHA256.test(digest));
}

/** Parses `repo[:tag][@digest]`; throws UsageError naming what is wrong. */
export function parseImageRef(text: string): ImageRef {
  const invalid = (why: string) =>
    new UsageError(`invalid image reference ${JSON.stringify(text)}: ${why}`, {
      code: 'IMAGE_REF_INVALID',
      hint: 'use repository[:tag][@sha256:<64 hex>], e.g. registry.example.com/team/hello:1.2.0@sha256:…',
    });
  const at = text.indexOf('@');
  const named = at === -1 ? text : text.slice(0, at);
  const digest = at === -1 ? null : text.slice(at + 1);
  if (digest !== null && !isValidDigest(digest)) throw invalid(`bad digest ${JSON.stringify(digest)}`);
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
