import { createReadStream, createWriteStream } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { OciLayout } from '../adapters/image/oci-layout.js';
import { RegistryClient } from '../adapters/registry/registry-client.js';
import { registryCredentials } from '../adapters/registry/registry-credentials.js';
import { ExternalError } from '../core/errors.js';
import { MEDIA, parseManifest } from '../core/oci/manifest.js';
import type { AppContext } from './context.js';

export interface ImageBuildOptions {
  readonly base?: string | undefined;
  readonly tag?: string | undefined;
  readonly push?: boolean;
  readonly dotenv?: string | undefined;
  readonly configFile?: string | undefined;
  /** Use build.output as it is (the build job's artifacts) instead of running `npm run build`. */
  readonly prebuilt?: boolean | undefined;
}

export interface ImageBuildResult {
  readonly repository: string;
  readonly tag: string;
  readonly digest: string;
  readonly ref: string;
  readonly layout: string;
  readonly push: 'pushed' | 'already-published' | 'not-pushed';
  readonly layers: readonly {
    readonly digest: string;
    readonly size: number;
    readonly createdBy: string;
    readonly cached?: boolean;
  }[];
}

export async function clientFor(context: AppContext, registry: string): Promise<RegistryClient> {
  return new RegistryClient(registry, { credentials: await registryCredentials(registry, context.env) });
}

/** What the registry already holds under a content tag. */
export interface PublishedImage {
  readonly digest: string;
  readonly layers: ImageBuildResult['layers'];
}

/**
 * The image already published under the content tag, looked up before anything is compiled or
 * built: the tag is a hash of build.inputs, so the registry's image is the one these inputs make
 * and is reused as it is (never rebuilt, re-uploaded or moved). Only when pushing, and only for
 * the content tag; an explicit --tag is a name the user moves on purpose.
 */
export async function publishedContentTag(
  context: AppContext,
  options: ImageBuildOptions,
  target: { registry: string; repository: string },
  tag: string,
): Promise<PublishedImage | undefined> {
  if (options.push !== true || options.tag !== undefined) return undefined;
  const client = await clientFor(context, target.registry);
  const manifest = await client.getManifest(target.repository, tag);
  if (manifest === undefined) return undefined;
  const parsed = parseManifest(manifest.bytes, manifest.mediaType);
  const layers =
    parsed.kind === 'image'
      ? parsed.manifest.layers.map((layer) => ({ digest: layer.digest, size: layer.size, createdBy: 'published' }))
      : [];
  return { digest: manifest.digest, layers };
}

/** The result of a build that found its content tag published: the dotenv still goes to later jobs. */
export async function reusePublished(
  context: AppContext,
  options: ImageBuildOptions,
  repository: string,
  tag: string,
  published: PublishedImage,
  layout: OciLayout,
): Promise<ImageBuildResult> {
  context.progress(`${repository}:${tag} is already published as ${published.digest}; nothing to build or push`);
  if (options.dotenv !== undefined) await writeDotenv(context, options.dotenv, repository, tag, published.digest);
  return {
    repository,
    tag,
    digest: published.digest,
    ref: `${repository}:${tag}@${published.digest}`,
    layout: layout.dir,
    push: 'already-published',
    layers: published.layers,
  };
}

/**
 * Pushes an image that is in the local OCI layout: each blob the registry lacks is mounted from
 * the base's repository when both are on the same registry, else uploaded from the layout
 * (fetched from the base's registry first if the layout does not have it); the manifest last.
 */
export async function pushFromLayout(
  context: AppContext,
  layout: OciLayout,
  target: { registry: string; repository: string },
  manifestDigest: string,
  tag: string,
  baseSource?: { registry: string; repository: string },
): Promise<'pushed' | 'already-published'> {
  const client = await clientFor(context, target.registry);
  if ((await client.resolveTag(target.repository, tag)) === manifestDigest) {
    context.progress(`${target.registry}/${target.repository}:${tag} already has ${manifestDigest}; nothing to push`);
    return 'already-published';
  }
  const manifestBytes = await layout.readBlob(manifestDigest);
  const parsed = parseManifest(manifestBytes, MEDIA.ociManifest);
  if (parsed.kind !== 'image')
    throw new ExternalError(
      'LAYOUT_INVALID',
      `manifest ${manifestDigest} in ${layout.dir} is not an OCI image manifest`,
    );
  const fromLayout = (digest: string, size: number) => ({
    digest,
    size,
    open: (start: number, end: number) => createReadStream(layout.blobPath(digest), { start, end }),
  });
  for (const blob of [...parsed.manifest.layers, parsed.manifest.config]) {
    if (await client.blobExists(target.repository, blob.digest)) continue;
    const inLayout = await layout.hasBlob(blob.digest);
    if (
      !inLayout &&
      baseSource?.registry === target.registry &&
      (await client.mountBlob(target.repository, blob.digest, baseSource.repository))
    ) {
      await report(context, blob, 'mounted');
      continue;
    }
    if (!inLayout && baseSource !== undefined) {
      context.progress(`fetching ${blob.digest.slice(0, 19)}… from ${baseSource.registry}/${baseSource.repository}`);
      const partial = `${layout.blobPath(blob.digest)}.partial`;
      await (await clientFor(context, baseSource.registry)).downloadBlob(
        baseSource.repository,
        blob.digest,
        createWriteStream(partial),
      );
      await rename(partial, layout.blobPath(blob.digest));
    }
    await report(context, blob, await client.uploadBlob(target.repository, fromLayout(blob.digest, blob.size)));
  }
  await client.putManifest(target.repository, tag, manifestBytes, MEDIA.ociManifest);
  return 'pushed';
}

async function report(context: AppContext, blob: { digest: string; size: number }, outcome: string): Promise<void> {
  context.progress(`${outcome.padEnd(8)} ${blob.digest.slice(0, 19)}… ${(blob.size / 1024 / 1024).toFixed(1)} MiB`);
}

/** The variables later jobs read from a GitLab `artifacts:reports:dotenv` file. */
export async function writeDotenv(
  context: AppContext,
  file: string,
  repository: string,
  tag: string,
  digest: string,
): Promise<void> {
  const lines = [
    `IMAGE_REPOSITORY=${repository}`,
    `IMAGE_TAG=${tag}`,
    `IMAGE_DIGEST=${digest}`,
    `IMAGE_REF=${repository}:${tag}@${digest}`,
  ];
  await writeFile(resolve(context.cwd, file), `${lines.join('\n')}\n`);
}
