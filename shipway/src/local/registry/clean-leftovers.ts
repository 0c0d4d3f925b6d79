import { readdir, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { TEMP_FILE } from '../../adapters/fs/write-atomically.js';
import { processAlive } from '../../adapters/process/process-alive.js';

/**
 * What a crash leaves in a registry directory: upload files (their sessions lived in memory, so
 * they can never be resumed) and writeAtomically temp files. A temp file whose writer (the pid in
 * its name) is still running is kept: another process may share the directory. Returns the paths
 * removed, relative to root.
 */
export async function cleanLeftovers(root: string): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(join(root, 'uploads'))) {
    await rm(join(root, 'uploads', name), { force: true, recursive: true });
    removed.push(join('uploads', name));
  }
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    const pid = TEMP_FILE.exec(entry.name)?.[1];
    if (!entry.isFile() || pid === undefined || processAlive(Number(pid))) continue;
    await rm(join(entry.parentPath, entry.name), { force: true });
    removed.push(relative(root, join(entry.parentPath, entry.name)));
  }
  return removed;
}
