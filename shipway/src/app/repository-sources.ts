import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { UsageError } from '../core/errors.js';
import { type CiSourceFile, type CiSources, repositoryPath } from '../core/pipeline/ci-sources.js';

/** The real path, or undefined when it does not exist. */
export function realpath(path: string): string | undefined {
  try {
    return realpathSync.native(path);
  } catch {
    return undefined;
  }
}

/** Whether `path` is `root` or below it (both absolute, resolved the same way). */
export function isInside(root: string, path: string): boolean {
  const rest = relative(root, path);
  return rest === '' || !(rest === '..' || rest.startsWith('../') || isAbsolute(rest));
}

/**
 * The repository's files, read from the working tree at `root`: only files that are inside it
 * once symlinks are followed (GitLab reads files from the commit, never the runner's disk).
 * Lists them lazily (a walk without .git, node_modules and .shipway).
 */
export function repositorySources(root: string): CiSources & { files(): readonly string[] } {
  const realRoot = realpath(root) ?? resolve(root);
  let listed: readonly string[] | undefined;
  const list = (): readonly string[] => {
    listed ??= walk(root, root);
    return listed;
  };
  const read = (path: string): CiSourceFile => {
    const inside = repositoryPath(path);
    if (inside === undefined) return { kind: 'outside' };
    const real = realpath(join(realRoot, inside));
    if (real === undefined) return { kind: 'missing' };
    if (!isInside(realRoot, real)) return { kind: 'outside' };
    if (!statSync(real).isFile()) return { kind: 'missing' };
    return { kind: 'file', text: readFileSync(real, 'utf8') };
  };
  return { read, list, files: list };
}

function walk(root: string, dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === '.git' || entry.name === 'node_modules' || entry.name === '.shipway') continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(root, full));
    else out.push(relative(root, full));
  }
  return out;
}

/** A path given on the command line as a path in the repository at `root`, or undefined outside it. */
export function inRepository(root: string, file: string): string | undefined {
  const absolute = resolve(root, file);
  // The working directory may be reached through a symlink; the path given through either name.
  for (const base of new Set([resolve(root), realpath(root) ?? resolve(root)])) {
    const path = relative(base, absolute);
    if (path !== '' && isInside(base, absolute)) return path;
  }
  return undefined;
}

/**
 * `--file` as a path in the repository at `root` (the working directory): relative to it, or
 * absolute and inside it. A file outside the repository is a usage error: its includes, `exists`
 * and `changes` are paths of the repository it belongs to.
 */
export function repositoryFile(root: string, file: string): string {
  const path = inRepository(root, file);
  if (path !== undefined) return path;
  throw new UsageError('USAGE', `--file ${file} is not a file in the repository at ${root}`, {
    hint: 'run shipway from the root of the repository that holds the CI config',
  });
}
