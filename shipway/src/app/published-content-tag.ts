import type { OciLayout } from '../adapters/image/oci-layout.js';
import { parseManifest } from '../core/oci/manifest.js';
import { clientFor } from './client-for.js';
import type { AppContext } from './context.js';
import type { ImageBuildOptions, ImageBuildResult } from './image-build-options.js';
import { writeDotenv } from './write-dotenv.js';

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
