import { UsageError } from '../../core/errors.js';
import type { LayerDescriptor } from '../../core/image/assemble-image.js';
import type { ImageRef } from '../../core/image-ref.js';
import { imageConfigSchema, parseManifest } from '../../core/oci/manifest.js';
import { locate } from '../../core/oci/normalize-reference.js';
import type { RegistryClient } from '../registry/registry-client.js';
import type { BaseImage } from './host-base.js';
import { ociArchitecture } from './host-base.js';

/** Reads a base image's config and layer list from its registry (layers stay there until pushed). */
export async function registryBase(client: RegistryClient, ref: ImageRef, text: string): Promise<BaseImage> {
  const { registry, repository } = locate(ref);
  const unknown = () =>
    new UsageError('BASE_UNKNOWN', `base image ${text} was not found on ${registry}`, {
      hint: 'check the --base reference, or use --base host',
    });
  let fetched = await client.getManifest(repository, ref.digest ?? ref.tag ?? 'latest');
  if (fetched === undefined) throw unknown();
  let parsed = parseManifest(fetched.bytes, fetched.mediaType);
  if (parsed.kind === 'index') {
    const arch = ociArchitecture(process.arch);
    const entry = parsed.index.manifests.find(
      (candidate) => candidate.platform?.os === 'linux' && candidate.platform.architecture === arch,
    );
    if (entry === undefined) throw new UsageError('BASE_PLATFORM', `base image ${text} has no linux/${arch} image`);
    fetched = await client.getManifest(repository, entry.digest);
    if (fetched === undefined) throw unknown();
    parsed = parseManifest(fetched.bytes, fetched.mediaType);
  }
  if (parsed.kind !== 'image') throw new UsageError('BASE_INVALID', `base image ${text} is not an image manifest`);
  const chunks: Buffer[] = [];
  const { Writable } = await import('node:stream');
  await client.downloadBlob(
    repository,
    parsed.manifest.config.digest,
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk);
        done();
      },
    }),
  );
  const config = imageConfigSchema.parse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
  const layers: LayerDescriptor[] = parsed.manifest.layers.map((layer, index) => ({
    digest: layer.digest,
    size: layer.size,
    diffId: config.rootfs.diff_ids[index] ?? '',
    createdBy: `base ${text}`,
  }));
  return { config, layers, source: { registry, repository } };
}
