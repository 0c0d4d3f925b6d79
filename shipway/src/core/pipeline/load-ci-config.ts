import type { CiJob, IncludeContext, IncludeState } from './ci-model.js';
import { type CiSources, repositoryPath } from './ci-sources.js';
import { type CiFile, type CiMap, type CiProblem, isCiMap, parseCiYaml, type SourceLocation } from './ci-yaml.js';
import { composeFile } from './compose-includes.js';
import { applyDefaults, defaultsOf, extendJob, LEGACY_DEFAULTS } from './extend-jobs.js';
import { foldDependents } from './missing-includes.js';
import { expandParallel } from './parallel-jobs.js';
import { resolveReferences } from './resolve-references.js';

export type { CiJob, IncludeContext } from './ci-model.js';
export type { CiSourceFile, CiSources, ExternalIncludes } from './ci-sources.js';
export type { CiProblem } from './ci-yaml.js';

export interface CiConfig {
  readonly globals: CiMap;
  readonly jobs: readonly CiJob[];
  readonly problems: readonly CiProblem[];
  /** Where a top-level keyword is written, or (block style) `child` directly under it. */
  locationOf(key: string, child?: string): SourceLocation;
  /** Where included files came from, when the user should know (printed, not errors). */
  readonly notes: readonly string[];
}

export interface LoadOptions {
  /** What `include:` may use: variables, include:rules' context, the includes kept offline. */
  readonly include?: IncludeContext | undefined;
  /** The pipeline's inputs, for a main file with a `spec:inputs` header. */
  readonly inputs?: CiMap | undefined;
}

/** Top-level keys that are keywords, not jobs. The legacy global image…after_script act as defaults. */
const GLOBAL_KEYWORDS = new Set(['default', 'include', 'stages', 'variables', 'workflow', 'spec']);
/** The keywords `default:` may set (Ci::Config::Entry::Default::ALLOWED_KEYS). */
const DEFAULT_KEYS = new Set([
  'after_script',
  'artifacts',
  'before_script',
  'cache',
  'hooks',
  'id_tokens',
  'image',
  'interruptible',
  'retry',
  'services',
  'tags',
  'timeout',
]);

/**
 * Reads a GitLab CI config as GitLab composes it before any rule runs: `spec:inputs`, includes
 * (nested, globbed, rules, inputs, merged under the including file, which wins), `!reference`
 * tags, `extends` (deep merge of hashes, child wins, cycles refused), `default`, and `parallel`
 * (each job becomes its instances). Problems are collected with the file and line they come from
 * rather than thrown one at a time.
 */
export function loadCiConfig(sources: CiSources, file: string | MainFile, options: LoadOptions = {}): CiConfig {
  const main = typeof file === 'string' ? readMainFile(sources, file) : file;
  if (main.kind === 'problem') {
    const at = main.problem.location;
    return { globals: {}, jobs: [], problems: [main.problem], locationOf: () => at, notes: [] };
  }
  return composeConfig(sources, main.parsed, options, main.path);
}

/** The main CI file, parsed (it can be while Git is asked about the commit), or why it cannot be read. */
export type MainFile =
  | { readonly kind: 'file'; readonly path: string; readonly parsed: CiFile }
  | { readonly kind: 'problem'; readonly problem: CiProblem };

export function readMainFile(sources: CiSources, file: string): MainFile {
  const path = repositoryPath(file);
  const read = path === undefined ? undefined : sources.read(path);
  if (path === undefined || read?.kind !== 'file') {
    const why = read?.kind === 'missing' ? 'does not exist' : 'is outside the repository';
    return { kind: 'problem', problem: { message: `${file} ${why}`, location: { file, line: 0 } } };
  }
  return { kind: 'file', path, parsed: parseCiYaml(read.text, file) };
}

/**
 * The config of a child pipeline: a trigger job's `trigger:include` entries, read as the
 * includes of a file that has nothing else (https://docs.gitlab.com/ci/pipelines/downstream_pipelines/).
 */
export function loadChildConfig(
  sources: CiSources,
  include: CiMap['include'],
  at: SourceLocation,
  options: LoadOptions = {},
): CiConfig {
  const parent: CiFile = {
    file: at.file,
    value: { include: include ?? null },
    header: undefined,
    hasReferences: false,
    topLine: () => at.line,
    childLine: () => undefined,
    lineContaining: () => undefined,
    inputLine: () => undefined,
  };
  return composeConfig(sources, parent, options, undefined);
}

function composeConfig(sources: CiSources, main: CiFile, options: LoadOptions, path: string | undefined): CiConfig {
  const problems: CiProblem[] = [];
  const state: IncludeState = {
    problems,
    origins: new Map(),
    seen: new Set(path === undefined ? [] : [`\u0000${path}|`]),
    references: main.hasReferences,
    context: options.include,
    missing: [],
    unusable: [],
    notes: [],
  };
  const merged = composeFile(main, { sources, key: '' }, state, { given: options.inputs, at: undefined });
  const incomplete = state.missing.length > 0 || state.unusable.length > 0;
  const dangling = new Map<string, string[]>();
  const depend = (job: string, what: string) => dangling.set(job, [...(dangling.get(job) ?? []), what]);
  const resolved = state.references
    ? resolveReferences(merged, problems, incomplete ? (top, tag) => depend(top, `!reference ${tag}`) : undefined)
    : merged;
  const topLocation = (key: string, child?: string): SourceLocation => {
    const list = state.origins.get(key) ?? [];
    const origin = list.at(-1);
    if (origin === undefined) return { file: main.file, line: 1 };
    for (const written of child === undefined ? [] : [...list].reverse()) {
      const line = written.childLine(key, child ?? '');
      if (line !== undefined) return { file: written.file, line };
    }
    return { file: origin.file, line: origin.topLine(key) ?? 1 };
  };
  checkDefault(resolved, topLocation, problems);
  const chains = new Map<string, string[]>();
  const jobs = buildJobs(resolved, state, { topLocation, chains }, (job, parent) =>
    incomplete
      ? depend(job, `extends ${parent}`)
      : problems.push({ message: `job ${job}: extends ${parent}, which is not defined`, location: topLocation(job) }),
  );
  const kept = incomplete ? foldDependents(jobs, resolved, state, dangling, chains) : jobs;
  return {
    globals: resolved,
    jobs: expandParallel(kept, problems),
    problems,
    locationOf: topLocation,
    notes: state.notes,
  };
}

/** `default:` takes only the keywords GitLab allows there ("default config contains unknown keys"). */
function checkDefault(config: CiMap, locate: (key: string, child?: string) => SourceLocation, problems: CiProblem[]) {
  const value = config.default;
  if (value === undefined || value === null) return;
  if (!isCiMap(value)) {
    problems.push({ message: 'default config should be a hash', location: locate('default') });
    return;
  }
  for (const key of Object.keys(value))
    if (!DEFAULT_KEYS.has(key))
      problems.push({
        message: `default config contains unknown keys: ${key} (default: takes ${[...DEFAULT_KEYS].join(', ')})`,
        location: locate('default', key),
      });
}

function buildJobs(
  config: CiMap,
  state: IncludeState,
  where: { topLocation: (key: string) => SourceLocation; chains: Map<string, string[]> },
  undefinedParent: (job: string, parent: string) => void,
): CiJob[] {
  const { topLocation, chains } = where;
  const defaults = defaultsOf(config);
  const context = {
    config,
    done: new Map<string, CiMap>(),
    problems: state.problems,
    locate: topLocation,
    undefinedParent,
  };
  const jobs: CiJob[] = [];
  for (const [name, value] of Object.entries(config)) {
    if (GLOBAL_KEYWORDS.has(name) || LEGACY_DEFAULTS.includes(name) || name.startsWith('.')) continue;
    if (!isCiMap(value)) {
      state.problems.push({ message: `job ${name}: the job must be a map of keywords`, location: topLocation(name) });
      continue;
    }
    const chain: string[] = [];
    const definition = extendJob(name, context, chain);
    if (chain.length > 0) chains.set(name, chain);
    const keyLocation = (key: string): SourceLocation => {
      for (const link of [name, ...chain]) {
        for (const origin of [...(state.origins.get(link) ?? [])].reverse()) {
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
  return jobs;
}
