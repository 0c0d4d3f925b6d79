import { writeIncludeFile } from '../adapters/files/include-files.js';
import { gitLabFiles } from '../adapters/gitlab/gitlab-files.js';
import { fetchRemote } from '../adapters/http/fetch-remote.js';
import { RefusedError } from '../core/errors.js';
import type { ExternalIncludes } from '../core/pipeline/ci-sources.js';
import { isCiMap } from '../core/pipeline/ci-yaml.js';
import { describeTarget, type ExternalTarget } from '../core/pipeline/include-entry.js';
import { readMainFile } from '../core/pipeline/load-ci-config.js';
import { MAX_INCLUDES, MAX_YAML_SIZE_BYTES } from '../core/pipeline/yaml-limits.js';
import { loadPipeline } from './ci-config.js';
import type { AppContext } from './context.js';
import { includeDirectory } from './include-directory.js';
import { type IncludeClients, IncludeFetcher, type IncludeSourceOptions } from './include-fetcher.js';
import { type IncludeLock, type IncludeLockEntry, LOCK_FILE, readIncludeLock } from './include-lock.js';
import { currentBranch, triggerFor } from './plan-ci.js';
import { repositoryFile, repositorySources } from './repository-sources.js';

export interface FetchIncludesOptions extends IncludeSourceOptions {
  readonly file: string;
  readonly includeDir?: string | undefined;
  /** The pipeline whose includes are fetched (variables in include paths depend on the ref). */
  readonly ref?: string | undefined;
  readonly tag?: string | undefined;
  readonly variables?: ReadonlyMap<string, string> | undefined;
  /** A token (default $GITLAB_TOKEN, else $CI_JOB_TOKEN as a job token). */
  readonly token?: string | undefined;
}

export interface FetchedInclude {
  readonly include: string;
  readonly entry: IncludeLockEntry;
}

export interface FetchIncludesResult {
  readonly dir: string;
  readonly fetched: readonly FetchedInclude[];
}

export type { IncludeClients } from './include-fetcher.js';

const MAX_ROUNDS = 10;

/**
 * `shipway includes fetch`: every include of the config that is not in the repository, fetched
 * into the include directory and pinned in its lock (includes.lock.json), so `plan`, `lint` and
 * `run` read the same files offline. Fetching repeats until the fetched files include nothing
 * new (a component may include a project file). `include:rules` are not evaluated: every
 * include any pipeline could use is fetched. What the lock pinned is fetched again at the same
 * commit (and must have the same bytes) unless `update` is set.
 */
export async function fetchIncludes(
  context: AppContext,
  options: FetchIncludesOptions,
  clients?: IncludeClients,
): Promise<FetchIncludesResult> {
  const sources = repositorySources(context.cwd);
  const main = readMainFile(sources, repositoryFile(context.cwd, options.file));
  // The pipeline whose include paths are read: the given ref, else the current branch, else main.
  const ref = options.tag === undefined ? (options.ref ?? (await currentBranch(context.cwd)) ?? 'main') : undefined;
  const trigger = await triggerFor(context, { file: options.file, ref, tag: options.tag, server: options.server });
  // A local include inside a fetched project file is that project's file at the same ref.
  const locals = new Map<string, ExternalTarget>();
  const reader = includeDirectory({
    root: context.cwd,
    dir: options.includeDir,
    packagedComponent: false,
    missingLocal: (project, ref, file) => {
      const target: ExternalTarget = { kind: 'project', project, ref, file };
      locals.set(describeTarget(target), target);
    },
  });
  const lock = readIncludeLock(reader.dir);
  const fetcher = new IncludeFetcher(context, options, clients ?? defaultClients(context, options), lock);
  const fetched: FetchedInclude[] = [];
  const tried = new Set<string>();
  const composeAll = (external: ExternalIncludes): void => {
    locals.clear();
    readEveryConfig(sources, main, { trigger, variables: options.variables ?? new Map(), external });
  };
  try {
    for (let round = 0; round < MAX_ROUNDS && tried.size <= MAX_INCLUDES; round += 1) {
      const missing = missingIncludes(reader, tried, options.update === true, composeAll);
      const todo = [...missing, ...locals].filter(([key]) => !tried.has(key));
      if (todo.length === 0) break;
      for (const [key, target] of todo) {
        tried.add(key);
        const entry = await fetcher.fetch(target, reader.dir);
        lock.entries[key] = entry;
        fetched.push({ include: key, entry });
      }
    }
  } finally {
    if (fetched.length > 0)
      await writeIncludeFile(reader.dir, LOCK_FILE, `${JSON.stringify(sortedLock(lock), null, 2)}\n`);
  }
  return { dir: reader.dir, fetched };
}

/**
 * One round: composes every config through a reader that records each include the include
 * directory does not have yet (with `update`, each not yet fetched in this run), and refuses
 * includes whose names cannot be kept there.
 */
function missingIncludes(
  reader: Pick<ExternalIncludes, 'read'>,
  tried: ReadonlySet<string>,
  update: boolean,
  composeAll: (external: ExternalIncludes) => void,
): Map<string, ExternalTarget> {
  const missing = new Map<string, ExternalTarget>();
  const refused: string[] = [];
  composeAll({
    read(target) {
      const key = describeTarget(target);
      const read = update && !tried.has(key) ? undefined : reader.read(target);
      if (read === undefined || read.kind === 'missing') missing.set(key, target);
      if (read?.kind === 'refused') refused.push(`${key}: ${read.message}`);
      return read ?? { kind: 'missing', hint: 'fetched next' };
    },
  });
  if (refused.length > 0)
    throw new RefusedError(
      'INCLUDE_PATH_UNSAFE',
      `${refused.length} include(s) cannot be kept in the include directory`,
      {
        hint: refused.join('; '),
      },
    );
  return missing;
}

/**
 * Composes the config, and the child pipeline configs its trigger jobs include (two levels, as
 * GitLab nests them), so that every include they name is asked for.
 */
function readEveryConfig(
  sources: Parameters<typeof loadPipeline>[0],
  main: Parameters<typeof loadPipeline>[1],
  pipeline: Omit<Parameters<typeof loadPipeline>[2], 'everyInclude'>,
): void {
  const { config, child } = loadPipeline(sources, main, { ...pipeline, everyInclude: true });
  const children = (jobs: typeof config.jobs, depth: number): void => {
    for (const job of jobs) {
      const trigger = job.definition.trigger;
      if (depth > 2 || !isCiMap(trigger) || trigger.include === undefined) continue;
      children(child(trigger.include, job.location, new Map()).jobs, depth + 1);
    }
  };
  children(config.jobs, 1);
}

function sortedLock(lock: IncludeLock): IncludeLock {
  return {
    version: 1,
    entries: Object.fromEntries(Object.entries(lock.entries).sort(([a], [b]) => a.localeCompare(b))),
  };
}

function defaultClients(context: AppContext, options: FetchIncludesOptions): IncludeClients {
  const token = options.token ?? context.env.GITLAB_TOKEN;
  const jobToken = token === undefined ? context.env.CI_JOB_TOKEN : undefined;
  return {
    gitlab: (url) => gitLabFiles({ url, token, jobToken }),
    remote: (url) => fetchRemote(url, { maxBytes: MAX_YAML_SIZE_BYTES, timeoutMs: 30_000 }),
  };
}
