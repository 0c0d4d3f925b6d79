import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { dirname, join, posix, relative, resolve } from 'node:path';
import { RefusedError } from '../../core/errors.js';
import { createNoFollow, ensureDirectory, renameOver } from './no-follow.js';

/** Creates each directory of `relativeDir` under `root`, refusing one that is a symlink or a file. */
async function makeDirectories(root: string, relativeDir: string): Promise<void> {
  const parts = relativeDir === '.' || relativeDir === '' ? [] : relativeDir.split('/');
  // The include directory itself may be new, inside the repository (.shipway/includes).
  await mkdir(root, { recursive: true });
  for (let index = 0; index <= parts.length; index += 1) {
    const path = join(root, ...parts.slice(0, index));
    if (!(await ensureDirectory(path)))
      throw new RefusedError(
        'INCLUDE_DIR_UNSAFE',
        `${path} is a symlink or a file, not a directory; nothing written under it`,
        {
          hint: 'the include directory holds only fetched files: remove what is in the way',
        },
      );
  }
}

/**
 * Writes one fetched file at `relativePath` inside the include directory `root`, never outside
 * it and never through a symlink: the path must stay under the root once resolved, each directory
 * on the way is checked with lstat as it is made, and the file is written beside the target
 * (O_CREAT|O_EXCL|O_NOFOLLOW) and renamed over it, which replaces a link itself (rename(2)).
 */
export async function writeIncludeFile(
  root: string,
  relativePath: string,
  content: Uint8Array | string,
): Promise<void> {
  const normal = posix.normalize(relativePath);
  const target = resolve(root, normal);
  const rest = relative(resolve(root), target);
  if (normal !== relativePath || rest === '' || rest.startsWith('..') || posix.isAbsolute(normal))
    throw new RefusedError('INCLUDE_PATH_UNSAFE', `${relativePath} is not a path inside the include directory`);
  await makeDirectories(root, posix.dirname(normal));
  const temporary = join(dirname(target), `.shipway-fetch-${process.pid}-${randomBytes(4).toString('hex')}`);
  await createNoFollow(temporary, content);
  await renameOver(temporary, target);
}
