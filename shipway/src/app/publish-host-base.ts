import { join } from 'node:path';
import { hostBase } from '../adapters/image/host-base.js';
import { OciLayout } from '../adapters/image/oci-layout.js';
import { sourceDateEpoch } from '../core/image/provenance.js';
import { parseImageRef } from '../core/image-ref.js';
import { MEDIA } from '../core/oci/manifest.js';
import { locate } from '../core/oci/normalize-reference.js';
import type { AppContext } from './context.js';
import { pushFromLayout } from './push-from-layout.js';

/**
 * Publishes the `--base host` runtime as an image of its own (`<repository>-base:host-node<v>`),
 * so tools that pull a base by reference, such as `buildah bud`, can build on it.
 */
export async function publishHostBase(context: AppContext, repositoryText: string): Promise<string> {
  const layout = new OciLayout(join(context.cwd, '.shipway/oci'));
  await layout.init();
  // Made from this machine, not from the repository: the same Node gives the same base.
  const time = sourceDateEpoch(context.env.SOURCE_DATE_EPOCH) ?? 0;
  const base = await hostBase(layout, time, new Date(time * 1000).toISOString());
  const config = Buffer.from(JSON.stringify({ ...base.config, config: { ...base.config.config, Cmd: ['node'] } }));
  const configDigest = await layout.writeBlob(config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA.ociManifest,
      config: { mediaType: MEDIA.ociConfig, digest: configDigest, size: config.length },
      layers: base.layers.map((layer) => ({ mediaType: MEDIA.ociLayerGzip, digest: layer.digest, size: layer.size })),
    }),
  );
  const digest = await layout.writeBlob(manifest);
  const tag = `host-node${process.versions.node}`;
  await layout.tagManifest(tag, digest, manifest.length);
  const target = locate(parseImageRef(`${repositoryText}-base`));
  await pushFromLayout(context, layout, target, digest, tag);
  return `${repositoryText}-base:${tag}@${digest}`;
}
