import { lstat, readdir, readFile } from 'node:fs/promises';
import { basename, join, posix } from 'node:path';
import { GitCheckout } from '../adapters/git/git-checkout.js';
import type { EntryKind, RepositorySnapshot } from '../core/init/init-facts.js';

/** Bounds on what init reads to find the port and health routes: a repository is outside data. */
const MAX_SOURCE_FILES = 300;
const MAX_SOURCE_BYTES = 512 * 1024;
const MAX_DEPTH = 8;
const SOURCE_FILE = /\.(?:[cm]?[jt]s|jsx|tsx)$/;
const SOURCE_DIRS = ['src', 'lib', 'app', 'server', 'routes', 'api'];
const NEVER = new Set(['node_modules', '.git', '.shipway', 'dist', 'build', 'coverage', 'test', 'tests', '__tests__']);

async function readSmall(path: string, limit = MAX_SOURCE_BYTES): Promise<string | undefined> {
  try {
    const info = await lstat(path);
    if (!info.isFile() || info.size > limit) return undefined;
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

function kindOf(entry: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean }): EntryKind {
  if (entry.isSymbolicLink()) return 'symlink';
  if (entry.isFile()) return 'file';
  return entry.isDirectory() ? 'directory' : 'other';
}

/** Source files under `dir`, never following a symlink, breadth-first so top-level files come first. */
async function collectSources(root: string, first: readonly string[]): Promise<RepositorySnapshot['sources']> {
  const out: { path: string; text: string }[] = [];
  const seen = new Set<string>();
  const queue: { path: string; depth: number }[] = first.map((path) => ({ path, depth: 0 }));
  while (queue.length > 0 && out.length < MAX_SOURCE_FILES) {
    const next = queue.shift();
    if (next === undefined || seen.has(next.path)) continue;
    seen.add(next.path);
    const absolute = join(root, next.path);
    const info = await lstat(absolute).catch(() => undefined);
    if (info === undefined || info.isSymbolicLink()) continue;
    if (info.isFile() && SOURCE_FILE.test(next.path)) {
      const text = await readSmall(absolute);
      if (text !== undefined) out.push({ path: next.path, text });
    } else if (info.isDirectory() && next.depth < MAX_DEPTH) {
      const names = (await readdir(absolute).catch(() => [])).sort();
      for (const name of names)
        if (!NEVER.has(name) && !name.startsWith('.'))
          queue.push({ path: posix.join(next.path, name), depth: next.depth + 1 });
    }
  }
  return out;
}

async function originUrl(cwd: string): Promise<string | undefined> {
  const url = await new GitCheckout(cwd).remoteUrl('origin').catch(() => undefined);
  return url === '' ? undefined : url;
}

/**
 * What init reads from the repository: package.json, the top-level listing, bounded source files
 * (top-level scripts, then the usual source folders, breadth-first), the
 * tsconfig's text, an .nvmrc and the origin remote. Reads only; follows no symlink into sources.
 */
export async function readSnapshot(cwd: string): Promise<RepositorySnapshot> {
  const packageJson = await readSmall(join(cwd, 'package.json'), 1024 * 1024);
  const listing = await readdir(cwd, { withFileTypes: true });
  const entries = listing.map((entry) => ({ name: entry.name, kind: kindOf(entry) }));
  const topFiles = entries
    .filter((entry) => entry.kind === 'file' && SOURCE_FILE.test(entry.name))
    .map((entry) => entry.name);
  const dirs = SOURCE_DIRS.filter((name) => entries.some((entry) => entry.name === name && entry.kind === 'directory'));
  const sources = await collectSources(cwd, [...topFiles.sort(), ...dirs]);
  return {
    packageJson,
    entries,
    sources,
    tsconfig: await readSmall(join(cwd, 'tsconfig.json'), 256 * 1024),
    nodeVersionFile:
      (await readSmall(join(cwd, '.nvmrc'), 1024)) ?? (await readSmall(join(cwd, '.node-version'), 1024)),
    remoteUrl: await originUrl(cwd),
    directoryName: basename(cwd),
  };
}
