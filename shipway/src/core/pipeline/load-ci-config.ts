import {
  type CiFile,
  type CiMap,
  type CiValue,
  isCiMap,
  parseCiYaml,
  ReferenceTag,
  type SourceLocation,
} from './ci-yaml.js';
import { deepMerge } from './deep-merge.js';
import { globToRegExp } from './glob.js';

/** The repository files a config is read from (paths relative to the repository root). */
export interface CiSources {
  read(path: string): string | undefined;
  list(): readonly string[];
}

export interface CiProblem {
  readonly message: string;
  readonly location: SourceLocation;
}

export interface CiJob {
  readonly name: string;
  /** The job after `!reference`, `extends` and `default`. */
  readonly definition: CiMap;
  readonly location: SourceLocation;
  /** Where `key` is written for this job (in the job or what it extends), else the job itself. */
  keyLocation(key: string): SourceLocation;
}

export interface CiConfig {
  readonly globals: CiMap;
  readonly jobs: readonly CiJob[];
  readonly problems: readonly CiProblem[];
  /** Where a top-level keyword is written. */
  locationOf(key: string): SourceLocation;
}

/** Top-level keys that are keywords, not jobs. The legacy global image…after_script act as defaults. */
const GLOBAL_KEYWORDS = new Set(['default', 'include', 'stages', 'variables', 'workflow', 'spec']);
const LEGACY_DEFAULTS = ['image', 'services', 'cache', 'before_script', 'after_script'];
const MAX_EXTENDS_DEPTH = 11;
const MAX_REFERENCE_DEPTH = 10;

type Origin = CiFile;

/**
 * Reads a GitLab CI config as GitLab composes it before any rule runs: local includes (nested,
 * globbed, merged under the including file, which wins), `!reference` tags, `extends` (deep
 * merge of hashes, child wins, cycles refused) and `default`. Problems are collected with the
 * file and line they come from rather than thrown one at a time.
 */
export function loadCiConfig(sources: CiSources, path: string): CiConfig {
  const problems: CiProblem[] = [];
  const origins = new Map<string, Origin[]>();
  const text = sources.read(path);
  if (text === undefined) {
    problems.push({ message: `${path} does not exist`, location: { file: path, line: 0 } });
    return { globals: {}, jobs: [], problems, locationOf: () => ({ file: path, line: 0 }) };
  }
  const main = parseCiYaml(text, path);
  // Only a file that writes !reference needs the walk that resolves them.
  const references = { used: text.includes('!reference') };
  const merged = withIncludes(main, sources, problems, origins, new Set([normalize(path)]), references);
  const resolved = references.used ? resolveReferences(merged, merged, problems) : merged;
  const topLocation = (key: string): SourceLocation => {
    const origin = origins.get(key)?.at(-1);
    return origin === undefined ? { file: main.file, line: 1 } : { file: origin.file, line: origin.topLine(key) ?? 1 };
  };
  const defaults = defaultsOf(resolved);
  const extended = new Map<string, CiMap>();
  const jobs: CiJob[] = [];
  for (const [name, value] of Object.entries(resolved)) {
    if (GLOBAL_KEYWORDS.has(name) || LEGACY_DEFAULTS.includes(name) || name.startsWith('.')) continue;
    if (!isCiMap(value)) {
      problems.push({ message: `job ${name}: the job must be a map of keywords`, location: topLocation(name) });
      continue;
    }
    const chain: string[] = [];
    const definition = extend(name, resolved, extended, problems, topLocation, chain);
    const keyLocation = (key: string): SourceLocation => {
      for (const link of [name, ...chain]) {
        for (const origin of [...(origins.get(link) ?? [])].reverse()) {
          const job = origin.value[link];
          const line = isCiMap(job) && key in job ? origin.childLine(link, key) : undefined;
          if (line !== undefined) return { file: origin.file, line };
        }
      }
      return topLocation(name);
    };
    jobs.push({
      name,
      definition: applyDefaults(definition, defaults),
      get location() {
        return topLocation(name);
      },
      keyLocation,
    });
  }
  return { globals: resolved, jobs, problems, locationOf: topLocation };
}

function normalize(path: string): string {
  return path.replace(/^\.?\/+/, '');
}

function includeEntries(value: CiValue | undefined): CiValue[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

/** Merges a file's local includes (recursively) under the file itself. */
function withIncludes(
  file: CiFile,
  sources: CiSources,
  problems: CiProblem[],
  origins: Map<string, Origin[]>,
  seen: Set<string>,
  references: { used: boolean },
): CiMap {
  let merged: CiMap = {};
  const entries = includeEntries(file.value.include);
  const includeLine = entries.length === 0 ? 1 : (file.topLine('include') ?? 1);
  for (const entry of entries) {
    const needle = typeof entry === 'string' ? entry : isCiMap(entry) ? String(Object.values(entry)[0]) : '';
    const location = { file: file.file, line: file.lineContaining(needle, includeLine) ?? includeLine };
    const local = typeof entry === 'string' ? entry : isCiMap(entry) ? entry.local : undefined;
    if (typeof local !== 'string') {
      const kind = isCiMap(entry) ? Object.keys(entry).find((key) => key !== 'rules' && key !== 'inputs') : 'include';
      problems.push({
        message: `include: ${kind ?? 'an entry'} includes need GitLab; only local files can be planned offline`,
        location,
      });
      continue;
    }
    const paths = matchInclude(local, sources);
    if (paths.length === 0) problems.push({ message: `include: ${local} does not exist`, location });
    for (const included of paths) {
      if (seen.has(included)) continue;
      seen.add(included);
      const text = sources.read(included) ?? '';
      if (text.includes('!reference')) references.used = true;
      const child = parseCiYaml(text, included);
      merged = deepMerge(merged, withIncludes(child, sources, problems, origins, seen, references));
    }
  }
  const own: CiMap = {};
  for (const [key, value] of Object.entries(file.value)) {
    if (key === 'include') continue;
    const list = origins.get(key) ?? [];
    list.push(file);
    origins.set(key, list);
    own[key] = value;
  }
  return Object.keys(merged).length === 0 ? own : deepMerge(merged, own);
}

function matchInclude(pattern: string, sources: CiSources): string[] {
  const path = normalize(pattern);
  if (!/[*?[{]/.test(path)) return sources.read(path) === undefined ? [] : [path];
  const regex = globToRegExp(path);
  return sources
    .list()
    .filter((file) => regex.test(file) && /\.ya?ml$/.test(file))
    .sort();
}

/** Replaces every `!reference` with what it names; a list inside a list is spliced in. */
function resolveReferences(value: CiValue, root: CiMap, problems: CiProblem[], depth = 0): CiMap {
  const resolve = (node: CiValue, level: number): CiValue => {
    if (node instanceof ReferenceTag) {
      if (level >= MAX_REFERENCE_DEPTH) {
        problems.push({ message: `!reference [${node.path.join(', ')}] nests too deep`, location: node.location });
        return null;
      }
      let target: CiValue | undefined = root;
      for (const part of node.path) target = isCiMap(target) ? target[part] : undefined;
      if (target === undefined) {
        problems.push({ message: `!reference [${node.path.join(', ')}] points to nothing`, location: node.location });
        return null;
      }
      return resolve(target, level + 1);
    }
    // Subtrees without a reference are returned as they are: no copy of a large config.
    if (Array.isArray(node)) {
      let out: CiValue[] | undefined;
      for (const [index, item] of node.entries()) {
        const next = resolve(item, level);
        if (next === item && out === undefined) continue;
        out ??= node.slice(0, index);
        if (item instanceof ReferenceTag && Array.isArray(next)) out.push(...next);
        else out.push(next);
      }
      return out ?? node;
    }
    if (isCiMap(node)) {
      let out: CiMap | undefined;
      for (const [key, item] of Object.entries(node)) {
        const next = resolve(item, level);
        if (next === item) continue;
        out ??= { ...node };
        out[key] = next;
      }
      return out ?? node;
    }
    return node;
  };
  const out = resolve(value, depth);
  return isCiMap(out) ? out : {};
}

function extend(
  name: string,
  config: CiMap,
  done: Map<string, CiMap>,
  problems: CiProblem[],
  locate: (key: string) => SourceLocation,
  chain: string[],
  path: readonly string[] = [],
): CiMap {
  const cached = done.get(name);
  const own = config[name];
  if (!isCiMap(own)) return {};
  if (cached !== undefined) {
    chain.push(...parentsOf(own));
    return cached;
  }
  const parents = parentsOf(own);
  if (parents.length === 0 && own.extends === undefined) {
    done.set(name, own);
    return own;
  }
  let base: CiMap = {};
  for (const parent of parents) {
    chain.push(parent);
    if (path.includes(parent) || parent === name) {
      problems.push({
        message: `job ${path[0] ?? name}: circular extends: ${[...path, name, parent].join(' → ')}`,
        location: locate(path[0] ?? name),
      });
      continue;
    }
    if (path.length + 1 >= MAX_EXTENDS_DEPTH) {
      problems.push({ message: `job ${name}: extends nests deeper than ${MAX_EXTENDS_DEPTH}`, location: locate(name) });
      continue;
    }
    if (!isCiMap(config[parent])) {
      problems.push({ message: `job ${name}: extends ${parent}, which is not defined`, location: locate(name) });
      continue;
    }
    const resolved = extend(parent, config, done, problems, locate, chain, [...path, name]);
    base = Object.keys(base).length === 0 ? resolved : deepMerge(base, resolved);
  }
  const result = deepMerge(base, own, 'extends');
  done.set(name, result);
  return result;
}

function parentsOf(job: CiMap): string[] {
  const value = job.extends;
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

function defaultsOf(config: CiMap): CiMap {
  const defaults: CiMap = {};
  for (const key of LEGACY_DEFAULTS) {
    const value = config[key];
    if (value !== undefined) defaults[key] = value;
  }
  return isCiMap(config.default) ? { ...defaults, ...config.default } : defaults;
}

/** A job takes each `default` key it does not set itself, unless `inherit:default` says otherwise. */
function applyDefaults(job: CiMap, defaults: CiMap): CiMap {
  const inherit = isCiMap(job.inherit) ? job.inherit.default : undefined;
  if (inherit === false) return job;
  const allowed = Array.isArray(inherit) ? new Set(inherit.map(String)) : undefined;
  let missing = false;
  for (const key in defaults) if (!(key in job)) missing = true;
  if (!missing) return job;
  const out: CiMap = { ...job };
  for (const [key, value] of Object.entries(defaults))
    if (!(key in out) && (allowed === undefined || allowed.has(key))) out[key] = value;
  return out;
}
