import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { placeTree } from '../adapters/files/place-tree.js';
import { selectFiles } from '../adapters/files/select-files.js';
import { realParents, treeBelow } from '../adapters/files/walk-tree.js';
import { isCiMap } from '../core/pipeline/ci-yaml.js';
import { expandVariables } from '../core/pipeline/predefined-variables.js';
import { type CacheSpec, insideProject, keptAfter, splitPattern } from '../core/runner/file-selection.js';
import { sameTree, type TreeEntry } from '../core/runner/tree-entry.js';
import { discardTree } from './discard-tree.js';

export interface CacheRun {
  /** Where cache entries persist between jobs and runs: `<cacheDir>/<key>/{manifest.json,files/}`. */
  readonly cacheDir: string;
  readonly workspace: string;
  readonly variables: ReadonlyMap<string, string>;
  readonly log: (line: string) => void;
  readonly untracked: () => readonly string[];
}

interface Manifest {
  readonly version: 1;
  readonly key: string;
  readonly entries: readonly TreeEntry[];
}

/** GitLab's cache key: a string (variables expanded), or a hash of `key:files` with an optional prefix; `default` without one. */
function cacheKey(spec: CacheSpec, run: CacheRun): string {
  const key = spec.key;
  if (isCiMap(key) && Array.isArray(key.files)) {
    const hash = createHash('sha256');
    for (const file of key.files) {
      const path = insideProject(expandVariables(String(file), run.variables), run.workspace);
      const full = path === undefined ? undefined : join(run.workspace, path);
      hash.update(full !== undefined && existsSync(full) ? readFileSync(full) : '');
    }
    const prefix = typeof key.prefix === 'string' ? `${expandVariables(key.prefix, run.variables)}-` : '';
    return `${prefix}${hash.digest('hex').slice(0, 16)}`;
  }
  return typeof key === 'string' || typeof key === 'number' ? expandVariables(String(key), run.variables) : 'default';
}

/** The entry's directory: the key with anything but [A-Za-z0-9._-] replaced, never hidden, `.` or `..`. */
function entryDir(cacheDir: string, key: string): string {
  return join(cacheDir, key.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\./, '_') || '_');
}

function readManifest(dir: string): Manifest | undefined {
  try {
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
    return manifest.version === 1 && Array.isArray(manifest.entries) ? manifest : undefined;
  } catch {
    return undefined;
  }
}

const filesOf = (dir: string) => treeBelow(join(dir, 'files'));

/**
 * Restores the caches the job pulls, the first key (then `fallback_keys`) that has an entry.
 * Files are hard links into the entry: restoring node_modules costs one link per file instead of
 * a copy. A hard link shares its inode, so a job writing into a restored file in place (rather
 * than replacing it, as npm does) would change the entry for every later job; each entry is
 * therefore checked against the manifest written with it (every path, link target, and each
 * file's size, modification time and mode) and thrown away, as a cache miss, when it differs.
 */
export function restoreCaches(specs: readonly CacheSpec[], run: CacheRun): void {
  for (const spec of specs) {
    if (spec.policy === 'push') continue;
    const keys = [cacheKey(spec, run), ...spec.fallbackKeys.map((key) => expandVariables(key, run.variables))];
    for (const key of keys) {
      run.log(`Checking cache for ${key}...`);
      const dir = entryDir(run.cacheDir, key);
      const manifest = readManifest(dir);
      if (manifest === undefined) continue;
      if (!sameTree(filesOf(dir), manifest.entries)) {
        run.log(`WARNING: cache ${key} was changed in place since it was saved; discarded`);
        discardTree(dir);
        continue;
      }
      for (const path of placeTree(join(dir, 'files'), run.workspace, manifest.entries, 'link'))
        run.log(`WARNING: ${path}: not restored (a symlink or a file is in the way in the workspace)`);
      run.log(`Successfully extracted cache ${key}`);
      break;
    }
  }
}

/**
 * Saves the caches the job pushes, after the job (and its after_script), when `cache:when`
 * says so. As GitLab Runner skips an upload when nothing changed ("Archive is up to date!"),
 * an entry whose files are exactly the workspace's is kept as it is; otherwise a new entry is
 * linked from the workspace beside the old one and swapped in with a rename.
 */
export function saveCaches(specs: readonly CacheSpec[], run: CacheRun, succeeded: boolean): void {
  const expand = (text: string) => expandVariables(text, run.variables);
  for (const spec of specs) {
    if (spec.policy === 'pull' || !keptAfter(spec.when, succeeded)) continue;
    const key = cacheKey(spec, run);
    run.log(`Creating cache ${key}...`);
    const { entries, notes } = selectFiles(run.workspace, spec, expand, run.untracked);
    for (const note of notes) run.log(`WARNING: ${note}`);
    const dir = entryDir(run.cacheDir, key);
    const old = readManifest(dir);
    if (old !== undefined && sameTree(old.entries, entries)) {
      run.log('Archive is up to date!');
      continue;
    }
    if (entries.length === 0) continue;
    const temporary = join(run.cacheDir, `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
    mkdirSync(join(temporary, 'files'), { recursive: true });
    placeTree(run.workspace, join(temporary, 'files'), entries, 'link');
    // What was written, not what was read: a copy across filesystems has its own times.
    const manifest: Manifest = { version: 1, key, entries: filesOf(temporary) };
    writeFileSync(join(temporary, 'manifest.json'), JSON.stringify(manifest));
    discardTree(dir);
    renameSync(temporary, dir);
    run.log(`Created cache ${key}`);
  }
}

/**
 * Moves the job's cached directories out of the workspace into the trash, so that the next job's
 * `git clean` does not walk them (GitLab removes them with the rest of the untracked files).
 */
export function clearCachedPaths(specs: readonly CacheSpec[], run: CacheRun): void {
  for (const spec of specs)
    for (const written of spec.paths) {
      const path = insideProject(expandVariables(written, run.variables), run.workspace);
      if (path === undefined || path === '' || splitPattern(path).glob !== undefined) continue;
      // Never through a symlink the job made: the rename would move (and delete) what it points at.
      // Into the directory that holds the checkout (the pipeline's): the same filesystem, and
      // out of the next job's `git clean`, which fails on files vanishing under it.
      if (realParents(run.workspace, path)) discardTree(join(run.workspace, path), dirname(run.workspace));
    }
}
