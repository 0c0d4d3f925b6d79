import { type CiSources, repositoryPath } from './ci-sources.js';
import { type CiFile, type CiMap, type CiProblem, isCiMap, parseCiYaml, type SourceLocation } from './ci-yaml.js';
import { composeIncludes } from './compose-includes.js';
import { deepMerge } from './deep-merge.js';
import { resolveReferences } from './resolve-references.js';

export type { CiSourceFile, CiSources } from './ci-sources.js';
export type { CiProblem } from './ci-yaml.js';

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
  /** Where a top-level keyword is written, or (block style) `child` directly under it. */
  locationOf(key: string, child?: string): SourceLocation;
}

/** Top-level keys that are keywords, not jobs. The legacy global image…after_script act as defaults. */
const GLOBAL_KEYWORDS = new Set(['default', 'include', 'stages', 'variables', 'workflow', 'spec']);
const LEGACY_DEFAULTS = ['image', 'services', 'cache', 'before_script', 'after_script'];
const MAX_EXTENDS_DEPTH = 11;

/**
 * Reads a GitLab CI config as GitLab composes it before any rule runs: local includes (nested,
 * globbed, merged under the including file, which wins), `!reference` tags, `extends` (deep
 * merge of hashes, child wins, cycles refused) and `default`. Problems are collected with the
 * file and line they come from rather than thrown one at a time.
 */
export function loadCiConfig(sources: CiSources, file: string): CiConfig {
  const problems: CiProblem[] = [];
  const origins = new Map<string, CiFile[]>();
  const path = repositoryPath(file);
  const read = path === undefined ? undefined : sources.read(path);
  if (path === undefined || read?.kind !== 'file') {
    const why = read?.kind === 'missing' ? 'does not exist' : 'is outside the repository';
    problems.push({ message: `${file} ${why}`, location: { file, line: 0 } });
    return { globals: {}, jobs: [], problems, locationOf: () => ({ file, line: 0 }) };
  }
  const main = parseCiYaml(read.text, file);
  // Only a file that writes !reference needs the walk that resolves them.
  const state = { sources, problems, origins, seen: new Set([path]), references: read.text.includes('!reference') };
  const merged = composeIncludes(main, state);
  const resolved = state.references ? resolveReferences(merged, problems) : merged;
  const topLocation = (key: string, child?: string): SourceLocation => {
    const list = origins.get(key) ?? [];
    const origin = list.at(-1);
    if (origin === undefined) return { file: main.file, line: 1 };
    for (const written of child === undefined ? [] : [...list].reverse()) {
      const line = written.childLine(key, child ?? '');
      if (line !== undefined) return { file: written.file, line };
    }
    return { file: origin.file, line: origin.topLine(key) ?? 1 };
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
