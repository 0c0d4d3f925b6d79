import {
  closeSync,
  constants,
  copyFileSync,
  futimesSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readSync,
  rmSync,
  type Stats,
  symlinkSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { parentsFirst, type TreeEntry } from '../../core/runner/tree-entry.js';

/** Files are hard-linked (a cache: cheap, shares inodes) or copied (artifacts: independent). */
export type PlaceMode = 'link' | 'copy';

const READ = constants.O_RDONLY | constants.O_NOFOLLOW;
const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

function lstatOrMissing(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Copies a file's bytes without following a symlink at either end, with the given mode. */
function copyNoFollow(from: string, to: string, mode: number, mtimeMs: number): void {
  const source = openSync(from, READ);
  try {
    const target = openSync(to, CREATE, mode);
    try {
      const buffer = Buffer.allocUnsafe(1 << 16);
      for (let read = readSync(source, buffer); read > 0; read = readSync(source, buffer))
        writeSync(target, buffer, 0, read);
      // GitLab's extraction keeps each file's modification time; so do copies here.
      futimesSync(target, mtimeMs / 1000, mtimeMs / 1000);
    } finally {
      closeSync(target);
    }
  } finally {
    closeSync(source);
  }
}

function placeFile(from: string, to: string, mode: PlaceMode, file: { mode: number; mtimeMs: number }): void {
  if (mode === 'link') {
    try {
      linkSync(from, to);
      return;
    } catch (error) {
      // Another filesystem (a state directory elsewhere): a copy, as GitLab's extraction makes.
      if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
      copyFileSync(from, to, constants.COPYFILE_EXCL);
      return;
    }
  }
  copyNoFollow(from, to, file.mode, file.mtimeMs);
}

/**
 * Places `entries` (listed under `fromRoot`) at the same paths under `toRoot`: directories made,
 * files hard-linked or copied, symlinks made again with their own target text (a relative
 * `.bin/tsc -> ../typescript/bin/tsc` stays relative). What is in the way is replaced, as GitLab's
 * extraction overwrites; a directory already there is kept. Nothing is written through a symlink
 * of `toRoot`: an entry whose parent there is a symlink or a file is skipped and returned.
 */
export function placeTree(fromRoot: string, toRoot: string, entries: readonly TreeEntry[], mode: PlaceMode): string[] {
  const skipped: string[] = [];
  const dirs = new Set<string>(['']);
  const parentOk = (path: string): boolean => {
    const parent = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
    if (dirs.has(parent)) return true;
    const parts = parent.split('/');
    for (let count = 1; count <= parts.length; count += 1) {
      const prefix = parts.slice(0, count).join('/');
      if (dirs.has(prefix)) continue;
      const info = lstatOrMissing(join(toRoot, prefix));
      if (info === undefined) mkdirSync(join(toRoot, prefix));
      else if (!info.isDirectory()) return false;
      dirs.add(prefix);
    }
    return true;
  };
  for (const entry of parentsFirst(entries)) {
    if (entry.path === '' || !parentOk(entry.path)) {
      if (entry.path !== '') skipped.push(entry.path);
      continue;
    }
    const target = join(toRoot, entry.path);
    const existing = lstatOrMissing(target);
    if (existing?.isDirectory() === true && entry.type === 'dir') {
      dirs.add(entry.path);
      continue;
    }
    if (existing !== undefined) {
      if (existing.isDirectory()) rmSync(target, { recursive: true, force: true });
      else unlinkSync(target);
    }
    if (entry.type === 'dir') {
      mkdirSync(target);
      dirs.add(entry.path);
    } else if (entry.type === 'symlink') symlinkSync(entry.target, target);
    else placeFile(join(fromRoot, entry.path), target, mode, entry);
  }
  return skipped;
}
