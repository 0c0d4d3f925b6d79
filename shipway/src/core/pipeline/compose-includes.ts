import { applyInputs, type GivenInputs } from './apply-inputs.js';
import type { IncludeOrigin, IncludeState } from './ci-model.js';
import { type CiSources, type ExternalRead, repositoryPath } from './ci-sources.js';
import { type CiFile, type CiMap, type CiValue, isCiMap, parseCiYaml, type SourceLocation } from './ci-yaml.js';
import { deepMerge } from './deep-merge.js';
import { globToRegExp } from './glob.js';
import { describeTarget, type IncludeTarget, readIncludeEntry } from './include-entry.js';
import { includeRulesPass } from './include-rules.js';
import { MAX_INCLUDES } from './yaml-limits.js';

/** The file, `spec:inputs` applied, with what it includes merged under it (the file wins a deep merge). */
export function composeFile(file: CiFile, origin: IncludeOrigin, state: IncludeState, inputs: GivenInputs): CiMap {
  const value = applyInputs(file, inputs, state);
  return composeIncludes(file, value, origin, state);
}

/**
 * Merges a file's includes (recursively) under the file itself, which wins a deep merge
 * (https://docs.gitlab.com/ci/yaml/includes/#merge-method-for-include). A local include is a path
 * in the repository the file came from: one leading out of it is refused, and so is a symlink to
 * a file outside. Includes from outside the repository come from `context.external`. At most
 * MAX_INCLUDES files are included (GitLab's ci_max_includes).
 */
function composeIncludes(file: CiFile, value: CiMap, origin: IncludeOrigin, state: IncludeState): CiMap {
  let merged: CiMap = {};
  const entries = includeEntries(value.include);
  // Lines are looked up only for a problem: finding them builds the file's line index.
  let lines: number[] | undefined;
  for (const [index, entry] of entries.entries()) {
    const location = () => {
      lines ??= entryLines(file, entries);
      return { file: file.file, line: lines[index] ?? 1 };
    };
    for (const child of includedFiles(entry, location, origin, state))
      merged = deepMerge(merged, composeFile(child.file, child.origin, state, child.inputs));
  }
  const own: CiMap = {};
  // Where each key is written, with the value inputs made of it (job names may come from inputs).
  const written: CiFile = value === file.value ? file : { ...file, value };
  for (const [key, item] of Object.entries(value)) {
    if (key === 'include') continue;
    const list = state.origins.get(key) ?? [];
    list.push(written);
    state.origins.set(key, list);
    own[key] = item;
  }
  return Object.keys(merged).length === 0 ? own : deepMerge(merged, own);
}

function includeEntries(value: CiValue | undefined): CiValue[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
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

interface IncludedFile {
  readonly file: CiFile;
  readonly origin: IncludeOrigin;
  readonly inputs: GivenInputs;
}

/** The files one `include:` entry names that apply and are not read yet; problems for the rest. */
function includedFiles(
  entry: CiValue,
  location: () => SourceLocation,
  origin: IncludeOrigin,
  state: IncludeState,
): IncludedFile[] {
  const problem = (message: string) => state.problems.push({ message: `include: ${message}`, location: location() });
  if (isCiMap(entry) && entry.rules !== undefined) {
    const verdict = includeRulesPass(entry.rules, state.context, origin.sources);
    if (typeof verdict === 'string') problem(verdict);
    if (verdict !== true) return [];
  }
  const read = readIncludeEntry(entry, state.context?.variables ?? { get: () => undefined });
  if (typeof read === 'string') {
    problem(read);
    return [];
  }
  const files: IncludedFile[] = [];
  const inputsKey = read.inputs === undefined ? '' : JSON.stringify(read.inputs);
  for (const target of read.targets) {
    const seen = (key: string) => state.seen.has(`${key}|${inputsKey}`);
    const found = targetFiles(target, { origin, state, problem, location, seen });
    for (const { key, file, from, component } of found) {
      if (seen(key)) continue;
      if (state.seen.size > MAX_INCLUDES) {
        problem(`more than ${MAX_INCLUDES} files are included (GitLab's ci_max_includes); ${file.file} is not read`);
        return files;
      }
      state.seen.add(`${key}|${inputsKey}`);
      if (file.hasReferences) state.references = true;
      files.push({ file, origin: from, inputs: { given: read.inputs, at: location, component } });
    }
  }
  return files;
}

interface TargetFile {
  readonly key: string;
  readonly file: CiFile;
  readonly from: IncludeOrigin;
  readonly component?: Readonly<Record<string, string>> | undefined;
}

interface TargetContext {
  readonly origin: IncludeOrigin;
  readonly state: IncludeState;
  readonly problem: (message: string) => void;
  readonly location: () => SourceLocation;
  /** Whether a file (by key) was read already with these inputs. */
  readonly seen: (key: string) => boolean;
}

function targetFiles(target: IncludeTarget, context: TargetContext): TargetFile[] {
  const { origin, state, problem, location } = context;
  if (target.kind === 'local') return localFiles(target.path, context);
  if (target.kind === 'artifact') {
    problem(`${describeTarget(target)}: artifact includes are only for a trigger job's child pipeline`);
    return [];
  }
  const what = describeTarget(target);
  if (context.seen(what)) return [];
  const read: ExternalRead = state.context?.external?.read(target) ?? {
    kind: 'missing',
    hint: 'only local includes can be read without an include directory',
  };
  if (read.kind === 'missing') {
    state.missing.push({ what, hint: read.hint, location: location() });
    return [];
  }
  if (read.kind === 'refused') {
    problem(`${what}: ${read.message}`);
    return [];
  }
  if (read.note !== undefined && !state.notes.includes(read.note)) state.notes.push(read.note);
  const from = read.sources === undefined ? origin : { sources: read.sources, key: read.file };
  return [{ key: what, file: parseCiYaml(read.text, read.file), from, component: read.component }];
}

/** A literal path as it is (read tells whether it exists), or the repository's YAML files a glob matches. */
function localFiles(local: string, context: TargetContext): TargetFile[] {
  const { origin, problem } = context;
  const path = repositoryPath(local);
  if (path === undefined) {
    problem(`${local} is outside the repository; a local include is a path from the repository root`);
    return [];
  }
  const paths = matchInclude(path, origin.sources);
  if (paths.length === 0) problem(`${local} does not exist`);
  const files: TargetFile[] = [];
  for (const included of paths) {
    const key = `${origin.key}\u0000${included}`;
    if (context.seen(key)) continue;
    const read = origin.sources.read(included);
    const label = origin.key === '' ? included : `${origin.key}:${included}`;
    if (read.kind === 'file') {
      files.push({ key, file: parseCiYaml(read.text, label), from: origin });
      continue;
    }
    // Reported once, not again for a glob that also matches it.
    context.state.seen.add(`${key}|`);
    if (read.kind === 'outside')
      problem(`${included} is a symlink to a file outside the repository; GitLab reads only the repository`);
    else problem(`${included} does not exist`);
  }
  return files;
}

function matchInclude(path: string, sources: CiSources): string[] {
  if (!/[*?[{]/.test(path)) return [path];
  const regex = globToRegExp(path);
  return sources
    .list()
    .filter((file) => regex.test(file) && /\.ya?ml$/.test(file))
    .sort();
}
