import { lstatSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import type { TreeEntry } from '../../core/runner/tree-entry.js';

function lstatOrMissing(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR')
      return undefined;
    throw error;
  }
}

/** The entry for `relative` under `root` from its lstat (never following a symlink); undefined for other kinds. */
export function entryAt(root: string, relative: string): TreeEntry | undefined {
  const info = lstatOrMissing(join(root, relative));
  if (info === undefined) return undefined;
  if (info.isSymbolicLink()) return { path: relative, type: 'symlink', target: readlinkSync(join(root, relative)) };
  if (info.isDirectory()) return { path: relative, type: 'dir' };
  if (info.isFile())
    return { path: relative, type: 'file', size: info.size, mtimeMs: info.mtimeMs, mode: info.mode & 0o7777 };
  return undefined;
}

/**
 * `relative` under `root` and everything below it, parents first. Symlinks are listed as links
 * and never followed, so a walk never leaves `root` (a link to /etc is one entry, not /etc);
 * sockets, FIFOs and devices are left out. Synchronous: a node_modules tree is ~15,000 lstat
 * calls, faster without a promise each.
 */
export function walkTree(root: string, relative: string, skip: (path: string) => boolean = () => false): TreeEntry[] {
  const out: TreeEntry[] = [];
  const visit = (path: string) => {
    if (skip(path)) return;
    const entry = entryAt(root, path);
    if (entry === undefined) return;
    out.push(entry);
    if (entry.type !== 'dir') return;
    for (const name of readdirSync(join(root, path)).sort()) visit(path === '' ? name : `${path}/${name}`);
  };
  visit(relative);
  return out;
}

/** Everything below `root` (not `root` itself), as walkTree lists it: a stored tree's entries. */
export function treeBelow(root: string): TreeEntry[] {
  return walkTree(root, '').filter((entry) => entry.path !== '');
}

/**
 * Whether every directory above `relative` (below `root`) is a real directory: a path reached
 * through a symlink may lead anywhere on the host.
 */
export function realParents(root: string, relative: string): boolean {
  const parts = relative.split('/');
  for (let count = 1; count < parts.length; count += 1) {
    const info = lstatOrMissing(join(root, ...parts.slice(0, count)));
    if (info === undefined) return true;
    if (!info.isDirectory()) return false;
  }
  return true;
}
