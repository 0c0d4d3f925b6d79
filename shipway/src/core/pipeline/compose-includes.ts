import { type CiSources, repositoryPath } from './ci-sources.js';
import {
  type CiFile,
  type CiMap,
  type CiProblem,
  type CiValue,
  isCiMap,
  parseCiYaml,
  type SourceLocation,
} from './ci-yaml.js';
import { deepMerge } from './deep-merge.js';
import { globToRegExp } from './glob.js';
import { MAX_INCLUDES } from './yaml-limits.js';

/** What composing one config collects as it reads its files. */
export interface IncludeState {
  readonly sources: CiSources;
  readonly problems: CiProblem[];
  /** For each top-level key, the files that write it, the including file last. */
  readonly origins: Map<string, CiFile[]>;
  /** Repository paths read so far, the main file first. */
  readonly seen: Set<string>;
  /** Whether any file writes `!reference` (only then is the config walked to resolve them). */
  references: boolean;
}

function includeEntries(value: CiValue | undefined): CiValue[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

/**
 * Merges a file's local includes (recursively, each file once) under the file itself, which wins
 * a deep merge. A local include is a path in the repository, as on GitLab
 * (https://docs.gitlab.com/ci/yaml/#includelocal): one leading out of it is refused, and so is a
 * symlink to a file outside. At most MAX_INCLUDES files are included (GitLab's ci_max_includes).
 */
export function composeIncludes(file: CiFile, state: IncludeState): CiMap {
  let merged: CiMap = {};
  const entries = includeEntries(file.value.include);
  // Lines are looked up only for a problem: finding them builds the file's line index.
  let lines: number[] | undefined;
  for (const [index, entry] of entries.entries()) {
    const location = () => {
      lines ??= entryLines(file, entries);
      return { file: file.file, line: lines[index] ?? 1 };
    };
    for (const child of includedFiles(entry, location, state)) {
      if (child.text.includes('!reference')) state.references = true;
      merged = deepMerge(merged, composeIncludes(parseCiYaml(child.text, child.path), state));
    }
  }
  const own: CiMap = {};
  for (const [key, value] of Object.entries(file.value)) {
    if (key === 'include') continue;
    const list = state.origins.get(key) ?? [];
    list.push(file);
    state.origins.set(key, list);
    own[key] = value;
  }
  return Object.keys(merged).length === 0 ? own : deepMerge(merged, own);
}

/** Each entry's line: the next one that names it (block style), else the first (flow style). */
function entryLines(file: CiFile, entries: readonly CiValue[]): number[] {
  const includeLine = file.topLine('include') ?? 1;
  let previous = includeLine - 1;
  return entries.map((entry) => {
    const needle = typeof entry === 'string' ? entry : isCiMap(entry) ? String(Object.values(entry)[0]) : '';
    previous = file.lineContaining(needle, previous + 1) ?? file.lineContaining(needle, includeLine) ?? includeLine;
    return previous;
  });
}

/** The files one `include:` entry names that are not read yet, with their text; problems for the rest. */
function includedFiles(
  entry: CiValue,
  location: () => SourceLocation,
  state: IncludeState,
): { path: string; text: string }[] {
  const local = typeof entry === 'string' ? entry : isCiMap(entry) ? entry.local : undefined;
  const problem = (message: string) => state.problems.push({ message: `include: ${message}`, location: location() });
  if (typeof local !== 'string') {
    const kind = isCiMap(entry) ? Object.keys(entry).find((key) => key !== 'rules' && key !== 'inputs') : 'include';
    problem(`${kind ?? 'an entry'} includes need GitLab; only local files can be planned offline`);
    return [];
  }
  const path = repositoryPath(local);
  if (path === undefined) {
    problem(`${local} is outside the repository; a local include is a path from the repository root`);
    return [];
  }
  const paths = matchInclude(path, state.sources);
  const files: { path: string; text: string }[] = [];
  for (const included of paths) {
    if (state.seen.has(included)) continue;
    if (state.seen.size > MAX_INCLUDES) {
      problem(`more than ${MAX_INCLUDES} files are included (GitLab's ci_max_includes); ${included} is not read`);
      break;
    }
    state.seen.add(included);
    const read = state.sources.read(included);
    if (read.kind === 'file') files.push({ path: included, text: read.text });
    else if (read.kind === 'outside')
      problem(`${included} is a symlink to a file outside the repository; GitLab reads only the repository`);
    else problem(`${included} does not exist`);
  }
  if (paths.length === 0) problem(`${local} does not exist`);
  return files;
}

/** A literal path as it is (read tells whether it exists), or the repository's YAML files a glob matches. */
function matchInclude(path: string, sources: CiSources): string[] {
  if (!/[*?[{]/.test(path)) return [path];
  const regex = globToRegExp(path);
  return sources
    .list()
    .filter((file) => regex.test(file) && /\.ya?ml$/.test(file))
    .sort();
}
