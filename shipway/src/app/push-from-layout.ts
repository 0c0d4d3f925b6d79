import { createReadStream, createWriteStream } from 'node:fs';
import { rename } from 'node:fs/promises';
import type { OciLayout } from '../adapters/image/oci-layout.js';
import { ExternalError } from '../core/errors.js';
import { MEDIA, parseManifest } from '../core/oci/manifest.js';
import { clientFor } from './client-for.js';
import type { AppContext } from './context.js';

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
