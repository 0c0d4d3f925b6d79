import { type CiMap, type CiProblem, isCiMap, type SourceLocation } from './ci-yaml.js';
import { deepMerge } from './deep-merge.js';

/** GitLab's Config::Extendable::Entry::MAX_NESTING_LEVELS. */
const MAX_EXTENDS_DEPTH = 11;

export interface ExtendContext {
  readonly config: CiMap;
  readonly done: Map<string, CiMap>;
  readonly problems: CiProblem[];
  readonly locate: (key: string) => SourceLocation;
  /** A parent that is not defined: a problem, unless an include that cannot be read may define it. */
  readonly undefinedParent: (job: string, parent: string) => void;
}

/**
 * The job with `extends` applied (https://docs.gitlab.com/ci/yaml/#extends): each parent, in
 * order, deep-merged, then the job itself, which wins; cycles and chains deeper than GitLab's
 * limit are refused. `chain` collects every job the result was built from.
 */
export function extendJob(name: string, context: ExtendContext, chain: string[], path: readonly string[] = []): CiMap {
  const { config, done, problems, locate } = context;
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
      context.undefinedParent(path[0] ?? name, parent);
      continue;
    }
    const resolved = extendJob(parent, context, chain, [...path, name]);
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

export const LEGACY_DEFAULTS = ['image', 'services', 'cache', 'before_script', 'after_script'];

export function defaultsOf(config: CiMap): CiMap {
  const defaults: CiMap = {};
  for (const key of LEGACY_DEFAULTS) {
    const value = config[key];
    if (value !== undefined) defaults[key] = value;
  }
  return isCiMap(config.default) ? { ...defaults, ...config.default } : defaults;
}

/** A job takes each `default` key it does not set itself, unless `inherit:default` says otherwise. */
export function applyDefaults(job: CiMap, defaults: CiMap): CiMap {
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
