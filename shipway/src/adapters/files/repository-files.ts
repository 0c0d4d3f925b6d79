import { randomBytes } from 'node:crypto';
import { lstat, readFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { RefusedError } from '../../core/errors.js';
import type { ExistingState } from '../../core/init/plan-init.js';
import { createNoFollow, ensureDirectory, errno, renameOver } from './no-follow.js';

/** Generated files are small; anything bigger than this at a target path differs from them. */
const MAX_COMPARED = 1024 * 1024;

/** The path's prefixes below the root: `a/b/c` → `a`, `a/b`, `a/b/c`. */
function prefixes(relativePath: string): string[] {
  const parts = posix.normalize(relativePath).split('/');
  return parts.map((_, index) => parts.slice(0, index + 1).join('/'));
}

/**
 * What is at `relativePath` under `root`, looking at every component with lstat so that a
 * symlink anywhere on the way (deployment → /elsewhere, or shipway.yaml → ~/.ssh/…) is seen
 * instead of followed.
 */
export async function existingState(root: string, relativePath: string): Promise<ExistingState> {
  const steps = prefixes(relativePath);
  for (const [index, prefix] of steps.entries()) {
    let info: Awaited<ReturnType<typeof lstat>>;
    try {
      info = await lstat(join(root, prefix));
    } catch (error) {
      if (errno(error) === 'ENOENT') return { kind: 'missing' };
      if (errno(error) === 'ENOTDIR') return { kind: 'not-a-file' };
      throw error;
    }
    if (info.isSymbolicLink()) return { kind: 'link', at: prefix };
    const last = index === steps.length - 1;
    if (!last && !info.isDirectory()) return { kind: 'not-a-file' };
    if (last && !info.isFile()) return { kind: 'not-a-file' };
    if (last && info.size > MAX_COMPARED) return { kind: 'file', content: '' };
  }
  return { kind: 'file', content: await readFile(join(root, relativePath), 'utf8') };
}

async function makeDirectories(root: string, relativeDir: string): Promise<void> {
  if (relativeDir === '.' || relativeDir === '') return;
  for (const prefix of prefixes(relativeDir)) {
    if (!(await ensureDirectory(join(root, prefix))))
      throw new RefusedError(
        'INIT_NOT_A_DIRECTORY',
        `${prefix} is not a directory (a symlink or a file); nothing written under it`,
        {
          hint: 'remove or rename it, then run shipway init again',
        },
      );
  }
}

/**
 * Writes one generated file without ever writing through a symlink: the directories on the way
 * are checked with lstat as they are made; a new file is created with O_CREAT|O_EXCL|O_NOFOLLOW
 * (so a symlink planted at the path makes it fail, open(2)); a replaced file is written beside
 * it and renamed over it, which replaces a link itself rather than its target (rename(2)).
 */
export async function writeRepositoryFile(
  root: string,
  relativePath: string,
  content: string,
  replace: boolean,
): Promise<void> {
  await makeDirectories(root, posix.dirname(posix.normalize(relativePath)));
  const target = join(root, relativePath);
  const path = replace
    ? join(dirname(target), `.shipway-init-${process.pid}-${randomBytes(4).toString('hex')}`)
    : target;
  await createNoFollow(path, content);
  if (replace) await renameOver(path, target);
}
