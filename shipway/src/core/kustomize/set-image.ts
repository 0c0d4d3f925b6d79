import { type Document, isMap, isScalar, isSeq, parse, Scalar, type YAMLMap, YAMLSeq } from 'yaml';
import { ConfigError, UsageError } from '../errors.js';
import { isPinnableDigest, PINNABLE_DIGEST_HINT } from '../image-ref.js';

/**
 * One `images:` entry of a kustomization, with kustomize's own field names. As in kustomize's
 * Go struct (api/types/image.go), an empty string means "not set" and is not written.
 */
export interface KustomizeImage {
  readonly name: string;
  readonly newName: string;
  readonly newTag: string;
  readonly digest: string;
}

/** The key order kustomize writes (the field order of its Image struct). */
const KEY_ORDER = ['name', 'newName', 'newTag', 'digest'] as const;
/** `*` as the new name, tag or digest keeps the value already in the file. */
const PRESERVE = '*';
// Same shape as kustomize's `edit set image` tag pattern: the tag is what follows the last colon,
// made of [a-zA-Z0-9._-] or a lone `*`.
const TAG_PATTERN = /^(.*):([a-zA-Z0-9._-]*|\*)$/;

const INVALID_ARGUMENT = `invalid format of image, use one of the following options:
- <image>=<newimage>:<newtag>
- <image>=<newimage>@<digest>
- <image>=<newimage>:<newtag>@<digest>
- <image>=<newimage>
- <image>:<newtag>
- <image>@<digest>
- <image>:<newtag>@<digest>`;

interface Overwrite {
  readonly name: string;
  readonly tag: string;
  readonly digest: string;
}

function parseOverwrite(arg: string, nameAlone: boolean): Overwrite | undefined {
  const parts = arg.split('@');
  if (parts.length > 2) return undefined;
  if (parts.length === 2) {
    const [named = '', digest = ''] = parts;
    const tagged = TAG_PATTERN.exec(named);
    return tagged === null ? { name: named, tag: '', digest } : { name: tagged[1] ?? '', tag: tagged[2] ?? '', digest };
  }
  const tagged = TAG_PATTERN.exec(arg);
  if (tagged !== null) return { name: tagged[1] ?? '', tag: tagged[2] ?? '', digest: '' };
  if (nameAlone && arg.length > 0) return { name: arg, tag: '', digest: '' };
  return undefined;
}

function parseArgument(arg: string): KustomizeImage | undefined {
  const sides = arg.split('=');
  if (sides.length === 2) {
    const [name = '', target = ''] = sides;
    const overwrite = parseOverwrite(target, true);
    if (overwrite === undefined) return undefined;
    return { name, newName: overwrite.name, newTag: overwrite.tag, digest: overwrite.digest };
  }
  if (sides.length > 2) return undefined;
  const overwrite = parseOverwrite(arg, false);
  if (overwrite === undefined) return undefined;
  return { name: overwrite.name, newName: '', newTag: overwrite.tag, digest: overwrite.digest };
}

/**
 * One argument, checked whole: kustomize's forms, plus what kustomize lets through and then
 * writes as a broken entry: an empty image name (`=x:y`, `:v1`, `@sha256:…`) and a digest that
 * is not an OCI digest (a `*` keeps the one in the file).
 */
function checkArgument(arg: string): KustomizeImage {
  const image = parseArgument(arg);
  if (image === undefined || image.name === '' || image.name === PRESERVE) {
    throw new UsageError('IMAGE_ARG_INVALID', `${INVALID_ARGUMENT}\n(got ${JSON.stringify(arg)})`);
  }
  if (image.digest !== '' && image.digest !== PRESERVE && !isPinnableDigest(image.digest)) {
    throw new UsageError(
      'IMAGE_ARG_INVALID',
      `invalid digest ${JSON.stringify(image.digest)} in ${JSON.stringify(arg)}`,
      { hint: PINNABLE_DIGEST_HINT },
    );
  }
  return image;
}

/**
 * Parses `kustomize edit set image` arguments; later arguments for the same name win. Every
 * argument is checked before any is used, so a bad one anywhere changes nothing.
 */
export function parseSetImageArgs(args: readonly string[]): KustomizeImage[] {
  if (args.length === 0) throw new UsageError('IMAGE_ARG_MISSING', 'no image specified');
  const byName = new Map<string, KustomizeImage>();
  for (const image of args.map(checkArgument)) byName.set(image.name, image);
  return [...byName.values()];
}

function keep(requested: string, existing: string): string {
  return requested === PRESERVE ? existing : requested;
}

/**
 * kustomize's merge rule: a requested entry replaces the whole existing entry of that name
 * (fields not given are dropped), except `*` fields, which keep the existing value; entries not
 * named are kept; the result is sorted by name.
 */
export function mergeImages(
  existing: readonly KustomizeImage[],
  requested: readonly KustomizeImage[],
): KustomizeImage[] {
  const byName = new Map<string, KustomizeImage>();
  const current = new Map(existing.map((image) => [image.name, image]));
  for (const image of existing) byName.set(image.name, image);
  for (const image of requested) {
    const old = current.get(image.name);
    byName.set(image.name, {
      name: image.name,
      newName: keep(image.newName, old?.newName ?? ''),
      newTag: keep(image.newTag, old?.newTag ?? ''),
      digest: keep(image.digest, old?.digest ?? ''),
    });
  }
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function field(entry: YAMLMap, key: string, path: string): string {
  const value: unknown = entry.get(key);
  if (value === undefined || value === null) return '';
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  throw new ConfigError('KUSTOMIZATION_INVALID', `${path}.${key} must be a string`);
}

/** Reads the `images:` entries; throws ConfigError with the path of anything malformed. */
export function readImages(document: Document): KustomizeImage[] {
  const images = document.get('images', true);
  if (images === undefined || images === null || (isScalar(images) && images.value === null)) return [];
  if (!isSeq(images)) throw new ConfigError('KUSTOMIZATION_INVALID', 'images must be a list');
  return images.items.map((item, index) => {
    const path = `images[${index}]`;
    if (!isMap(item)) throw new ConfigError('KUSTOMIZATION_INVALID', `${path} must be a mapping`);
    const name = field(item, 'name', path);
    if (name === '') throw new ConfigError('KUSTOMIZATION_INVALID', `${path}.name is required`);
    const digest = field(item, 'digest', path);
    if (digest !== '' && !isPinnableDigest(digest)) {
      throw new ConfigError('KUSTOMIZATION_INVALID', `${path}.digest ${JSON.stringify(digest)} is not an OCI digest`, {
        hint: PINNABLE_DIGEST_HINT,
      });
    }
    return { name, newName: field(item, 'newName', path), newTag: field(item, 'newTag', path), digest };
  });
}

/** True when a plain scalar would not read back as this string under YAML 1.1 or 1.2. */
function needsQuotes(text: string): boolean {
  return typeof parse(text, { version: '1.1' }) !== 'string' || typeof parse(text) !== 'string';
}

function scalarFor(value: string): Scalar<string> {
  const scalar = new Scalar(value);
  if (needsQuotes(value)) scalar.type = Scalar.QUOTE_DOUBLE;
  return scalar;
}

/**
 * Makes `node` hold exactly `image`, in kustomize's key order. Keys whose value stays keep their
 * nodes, so a comment on `name:` (or any unchanged line) survives the edit.
 */
function writeEntry(node: YAMLMap, image: KustomizeImage): YAMLMap {
  for (const key of KEY_ORDER) {
    const value = image[key];
    const current: unknown = node.get(key, true);
    if (value === '') node.delete(key);
    else if (!(isScalar(current) && String(current.value) === value)) node.set(key, scalarFor(value));
  }
  const rank = (key: unknown) => KEY_ORDER.indexOf((isScalar(key) ? key.value : key) as (typeof KEY_ORDER)[number]);
  node.items.sort((a, b) => rank(a.key) - rank(b.key));
  return node;
}

function sameImage(a: KustomizeImage, b: KustomizeImage): boolean {
  return KEY_ORDER.every((key) => a[key] === b[key]);
}

/**
 * Applies `requested` to the kustomization document in place, so comments, the order of other
 * keys and blank lines survive. Entries whose value does not change keep their nodes (and
 * comments). Returns whether anything changed.
 */
export function setImagesInDocument(document: Document, requested: readonly KustomizeImage[]): boolean {
  const existing = readImages(document);
  const merged = mergeImages(existing, requested);
  const before = new Map(existing.map((image) => [image.name, image]));
  const unchanged =
    merged.length === before.size &&
    merged.every((image) => sameImage(image, before.get(image.name) ?? image) && before.has(image.name));
  if (unchanged) return false;
  const oldSeq = document.get('images', true);
  const nodes = new Map<string, YAMLMap>();
  if (isSeq(oldSeq)) {
    existing.forEach((image, index) => {
      const node = oldSeq.items[index];
      if (isMap(node)) nodes.set(image.name, node);
    });
  }
  const seq = isSeq(oldSeq) ? oldSeq : new YAMLSeq();
  // kustomize writes block style; `images: []` would otherwise grow into a flow list.
  seq.flow = false;
  seq.items = merged.map((image) => {
    const node = nodes.get(image.name);
    if (node !== undefined && sameImage(before.get(image.name) ?? image, image)) return node;
    return writeEntry(node ?? (document.createNode({}) as YAMLMap), image);
  });
  if (!isSeq(oldSeq)) document.set('images', seq);
  return true;
}

/**
 * Prints an edited kustomization with the layout choices that leave untouched lines as they were:
 * no line folding and no padding inside flow collections (`[a.yaml]` stays `[a.yaml]`).
 */
export function formatKustomization(document: Document): string {
  return document.toString({ lineWidth: 0, flowCollectionPadding: false });
}
