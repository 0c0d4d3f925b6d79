import { randomBytes } from 'node:crypto';
import { link, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Temp files are `.<name>.tmp-<pid>-<8 hex>` beside their target. The leading dot keeps them
 * apart from every registry name (repository components, tags and digest hex never start with
 * one, spec.md "Pulling manifests"); the pid lets a later start tell a crash's leftovers from a
 * live writer's file. Older versions wrote `<name>.tmp-<pid>-<hex>`, which the pattern also matches.
 */
export const TEMP_FILE = /\.tmp-(\d+)-[0-9a-f]{8}$/;

function temporaryBeside(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** Writes beside the target and renames, so readers see the old content or the new, never half. */
export async function writeAtomically(path: string, content: string | Buffer): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = temporaryBeside(path);
  await writeFile(temporary, content);
  await rename(temporary, path);
}

/**
 * Moves a finished file to `path` unless something is already there: link(2) fails with EEXIST
 * instead of replacing, so content-addressed files are created once and never overwritten.
 * Returns whether this call created it; `source` is removed either way.
 */
export async function placeOnce(source: string, path: string): Promise<boolean> {
  try {
    await link(source, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await rm(source, { force: true });
  }
}

/** Creates `path` with `content` if it does not exist yet; an existing file is left untouched. */
export async function writeOnce(path: string, content: string | Buffer): Promise<boolean> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = temporaryBeside(path);
  await writeFile(temporary, content);
  return placeOnce(temporary, path);
}
