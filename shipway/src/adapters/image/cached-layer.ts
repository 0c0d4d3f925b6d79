import { createHash } from 'node:crypto';
import type { OciLayout } from './oci-layout.js';
import { type BuiltLayer, type LayerEntry, writeLayer } from './tar-layer.js';

/**
 * Writes a layer unless one was already written for the same key (and its blob is still there).
 * Keys name everything the layer's bytes depend on: the entries' sources and the mtime.
 */
export async function cachedLayer(
  layout: OciLayout,
  key: string,
  mtime: number,
  entries: () => Promise<readonly LayerEntry[]>,
): Promise<BuiltLayer & { readonly cached: boolean }> {
  const name = `layer-${createHash('sha256').update(`v1\n${mtime}\n${key}`).digest('hex')}`;
  const known = await layout.readRecord<BuiltLayer>(name);
  if (known !== undefined && (await layout.hasBlob(known.digest))) return { ...known, cached: true };
  const layer = await writeLayer(await entries(), layout.blobDir, mtime);
  await layout.writeRecord(name, layer);
  return { ...layer, cached: false };
}
