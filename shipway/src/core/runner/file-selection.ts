import * as posix from 'node:path/posix';
import { type CiMap, type CiValue, isCiMap } from '../pipeline/ci-yaml.js';
import { globToRegExp } from '../pipeline/glob.js';

export type FilesWhen = 'on_success' | 'on_failure' | 'always';

/** Which files of the workspace a job keeps: `artifacts:` or one `cache:` entry. */
export interface FileSelection {
  readonly paths: readonly string[];
  readonly exclude: readonly string[];
  readonly untracked: boolean;
  readonly when: FilesWhen;
}

export interface CacheSpec extends FileSelection {
  /** `cache:key` as written (a string, or `{files, prefix}`); undefined = GitLab's `default`. */
  readonly key: CiValue | undefined;
  readonly fallbackKeys: readonly string[];
  readonly policy: 'pull' | 'push' | 'pull-push';
}

const strings = (value: CiValue | undefined): string[] =>
  (Array.isArray(value) ? value : value === undefined || value === null ? [] : [value])
    .filter((item): item is string | number => typeof item === 'string' || typeof item === 'number')
    .map(String);

const whenOf = (value: CiValue | undefined): FilesWhen =>
  value === 'on_failure' || value === 'always' ? value : 'on_success';

function selectionOf(entry: CiMap): FileSelection {
  return {
    paths: strings(entry.paths),
    exclude: strings(entry.exclude),
    untracked: entry.untracked === true,
    when: whenOf(entry.when),
  };
}

/** The job's `artifacts:` files (paths, exclude, untracked, when); undefined when it keeps none. `expire_in` has no meaning here. */
export function artifactSelection(definition: CiMap): FileSelection | undefined {
  if (!isCiMap(definition.artifacts)) return undefined;
  const selection = selectionOf(definition.artifacts);
  return selection.paths.length > 0 || selection.untracked ? selection : undefined;
}

/** The job's `cache:` entries (a map or a list of up to four maps; `cache: []` is none). */
export function cacheSpecs(definition: CiMap): CacheSpec[] {
  const cache = definition.cache;
  return (Array.isArray(cache) ? cache : [cache]).filter(isCiMap).map((entry) => ({
    ...selectionOf(entry),
    key: entry.key,
    fallbackKeys: strings(entry.fallback_keys),
    policy: entry.policy === 'pull' || entry.policy === 'push' ? entry.policy : 'pull-push',
  }));
}

/** Whether files kept `when` are kept after a job that succeeded or not. */
export function keptAfter(when: FilesWhen, succeeded: boolean): boolean {
  return when === 'always' || (when === 'on_success') === succeeded;
}

/**
 * A path or pattern as a path relative to the project directory, or undefined when it leaves it.
 * GitLab Runner resolves each against the project directory and refuses what ends outside
 * ("artifact path is not a subpath of project directory", commands/helpers/file_archiver.go);
 * an absolute path inside the project directory (`$CI_PROJECT_DIR/dist`) is allowed.
 */
export function insideProject(pattern: string, projectDir: string): string | undefined {
  if (pattern === '' || pattern.includes('\0')) return undefined;
  const relative = posix.isAbsolute(pattern)
    ? posix.relative(projectDir, posix.normalize(pattern))
    : posix.normalize(pattern);
  const clean = relative.replace(/\/+$/, '');
  if (clean === '..' || clean.startsWith('../') || posix.isAbsolute(clean)) return undefined;
  return clean === '.' ? '' : clean;
}

const GLOB = /[*?[{]/;

/** The pattern's leading segments without glob characters, and the pattern (doublestar's SplitPattern). */
export function splitPattern(pattern: string): { readonly base: string; readonly glob: RegExp | undefined } {
  const parts = pattern === '' ? [] : pattern.split('/');
  const first = parts.findIndex((part) => GLOB.test(part));
  if (first === -1) return { base: pattern, glob: undefined };
  return { base: parts.slice(0, first).join('/'), glob: globToRegExp(pattern) };
}

/** Whether `path` or a directory above it (below `base`) matches: a matched directory brings everything under it. */
export function matchesOrUnder(path: string, base: string, glob: RegExp): boolean {
  const parts = path.split('/');
  const from = base === '' ? 1 : base.split('/').length + 1;
  for (let count = from; count <= parts.length; count += 1) if (glob.test(parts.slice(0, count).join('/'))) return true;
  return false;
}

/** `exclude` patterns match the path itself only: a matched directory keeps its contents (GitLab's docs: "exclude paths are not recursive"). */
export function excludedBy(path: string, exclude: readonly RegExp[]): boolean {
  return exclude.some((pattern) => pattern.test(path));
}
