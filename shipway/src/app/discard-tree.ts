import { randomBytes } from 'node:crypto';
import { renameSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * Removes a big tree without waiting for it: it is renamed beside itself at once (the same
 * directory, so the same filesystem) and deleted in the background while the next job runs.
 * Deleting a restored node_modules (~15,000 files) takes seconds on a busy disk, and longer
 * through the next job's `git clean`, which looks into every directory for nested repositories.
 * The deletion is not awaited: the process stays alive until it ends, and a run that is killed
 * only leaves a `.trash-*` directory behind, which nothing reads. `trash` (default: beside it)
 * must be on the same filesystem; a job's checkout passes a directory outside itself, or the next
 * job's `git clean` would walk a tree being deleted under it and fail.
 */
export function discardTree(path: string, trash: string = dirname(path)): void {
  const target = join(trash, `.trash-${Date.now()}-${randomBytes(4).toString('hex')}`);
  try {
    renameSync(path, target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  rm(target, { recursive: true, force: true }).catch(() => {});
}
