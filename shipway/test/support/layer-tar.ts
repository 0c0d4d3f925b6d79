import { lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pack } from 'tar-stream';

/** One entry of a hand-made layer: a file, a directory, a symlink or a hard link. */
export type Entry =
  | { name: string; body: string; mode?: number }
  | { name: string; dir: true }
  | { name: string; symlink: string }
  | { name: string; hardlink: string };

export function tarOf(entries: Entry[]): Promise<Buffer> {
  const tar = pack();
  for (const entry of entries) {
    if ('body' in entry) tar.entry({ name: entry.name, mode: entry.mode ?? 0o644 }, entry.body);
    else if ('dir' in entry) tar.entry({ name: entry.name, type: 'directory', mode: 0o755 });
    else if ('symlink' in entry) tar.entry({ name: entry.name, type: 'symlink', linkname: entry.symlink });
    else tar.entry({ name: entry.name, type: 'link', linkname: entry.hardlink });
  }
  tar.finalize();
  return (async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of tar) chunks.push(Buffer.from(chunk as Uint8Array));
    return Buffer.concat(chunks);
  })();
}

/** Every entry of a tree, `path type [-> target]`, sorted, never following symlinks. */
export function listTree(root: string): string[] {
  const out: string[] = [];
  const visit = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const info = lstatSync(path);
      const rel = relative(root, path);
      if (info.isSymbolicLink()) out.push(`${rel} -> ${readlinkSync(path)}`);
      else if (info.isDirectory()) {
        out.push(`${rel}/`);
        visit(path);
      } else out.push(rel);
    }
  };
  visit(root);
  return out;
}
