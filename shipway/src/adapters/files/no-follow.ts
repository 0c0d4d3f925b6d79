import { constants } from 'node:fs';
import { lstat, mkdir, open, rename, rm } from 'node:fs/promises';

// The pieces of writing under a root without following a symlink planted on the way, shared by
// `shipway init` (repository files) and `shipway includes fetch` (the include directory).

export function errno(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** Makes the directory if it is missing; whether what is there now is a directory (not a link or a file). */
export async function ensureDirectory(path: string): Promise<boolean> {
  try {
    await mkdir(path);
  } catch (error) {
    if (errno(error) !== 'EEXIST') throw error;
  }
  return (await lstat(path)).isDirectory();
}

/** Creates a new file with O_CREAT|O_EXCL|O_NOFOLLOW: a file or a symlink already there makes it fail (open(2)). */
export async function createNoFollow(path: string, content: Uint8Array | string): Promise<void> {
  const handle = await open(
    path,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    0o644,
  );
  try {
    await handle.writeFile(content);
  } finally {
    await handle.close();
  }
}

/** Renames a file written beside `target` over it (a link there is replaced, not followed: rename(2)); removes it on failure. */
export async function renameOver(temporary: string, target: string): Promise<void> {
  try {
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
