import { normalize } from 'node:path/posix';

export type LayerPath = { readonly ok: true; readonly parts: readonly string[] } | { readonly ok: false };

/**
 * The path components a layer entry name (or a hard link's target) stands for, relative to the
 * image root, or a refusal when the name climbs out of it.
 *
 * Leading slashes are dropped: a layer's names are relative to the root it is applied to, and an
 * absolute name means the same file (containerd's archive/tar.go `applyNaive` joins every name to
 * the root; GNU tar strips the slash too; image-spec layer.md does not mention absolute names).
 * The rest is cleaned lexically, as containerd does with `filepath.Clean`, and a name that still
 * starts with `..` is refused: unlike containerd, which clamps it at the root, shipway treats it
 * as a crafted layer, since no image builder writes one.
 */
export function layerPath(name: string): LayerPath {
  if (name.includes('\0')) return { ok: false };
  const relative = normalize(name.replace(/^\/+/, '') || '.');
  if (relative === '..' || relative.startsWith('../')) return { ok: false };
  return { ok: true, parts: relative.split('/').filter((part) => part !== '' && part !== '.') };
}
