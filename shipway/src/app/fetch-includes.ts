import { writeIncludeFile } from '../adapters/files/include-files.js';
import { type GitLabFiles, gitLabFiles } from '../adapters/gitlab/gitlab-files.js';
import { fetchRemote, type RemoteFile } from '../adapters/http/fetch-remote.js';
import { ExternalError, RefusedError, UsageError } from '../core/errors.js';
import type { ExternalIncludes } from '../core/pipeline/ci-sources.js';
import { isCiMap } from '../core/pipeline/ci-yaml.js';
import { describeTarget, type ExternalTarget } from '../core/pipeline/include-entry.js';
import { includeDirPaths, projectDir } from '../core/pipeline/include-paths.js';
import { integrityProblem, isReleaseSelector, selectRelease, sha256Hex } from '../core/pipeline/include-pins.js';
import { readMainFile } from '../core/pipeline/load-ci-config.js';
import { MAX_INCLUDES, MAX_YAML_SIZE_BYTES } from '../core/pipeline/yaml-limits.js';
import { loadPipeline } from './ci-config.js';
import type { AppContext } from './context.js';
import { includeDirectory } from './include-directory.js';
import { type IncludeLock, type IncludeLockEntry, LOCK_FILE, readIncludeLock } from './include-lock.js';
import { currentBranch, triggerFor } from './plan-ci.js';
import { repositoryFile, repositorySources } from './repository-sources.js';

export interface FetchIncludesOptions {
  readonly file: string;
  readonly includeDir?: string | undefined;
  /** The pipeline whose includes are fetched (variables in include paths depend on the ref). */
  readonly ref?: string | undefined;
  readonly tag?: string | undefined;
  readonly variables?: ReadonlyMap<string, string> | undefined;
  /** The GitLab server (default $CI_SERVER_URL). */
  readonly server?: string | undefined;
  /** A token (default $GITLAB_TOKEN, else $CI_JOB_TOKEN as a job token). */
  readonly token?: string | undefined;
  /** Resolve refs and versions again instead of keeping what the lock pinned. */
  readonly update?: boolean | undefined;
  /** Where `include: template:` comes from: GitLab's repository (gitlab-org/gitlab) on this server, at this ref. */
  readonly templateServer?: string | undefined;
  readonly templateRef?: string | undefined;
}

export interface FetchedInclude {
  readonly include: string;
  readonly entry: IncludeLockEntry;
}

export interface FetchIncludesResult {
  readonly dir: string;
  readonly fetched: readonly FetchedInclude[];
}

/** The outside systems fetching reads; tests and other hosts pass their own. */
export interface IncludeClients {
  readonly gitlab: (url: string) => Promise<GitLabFiles>;
  readonly remote: (url: string) => Promise<RemoteFile>;
}

const MAX_ROUNDS = 10;
const TEMPLATE_PROJECT = 'gitlab-org/gitlab';
const TEMPLATE_DIR = 'lib/gitlab/ci/templates';

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
  try {
    for (let round = 0; round < MAX_ROUNDS && tried.size <= MAX_INCLUDES; round += 1) {
      const missing = new Map<string, ExternalTarget>();
      const refused: string[] = [];
      const recording: ExternalIncludes = {
        read(target) {
          const key = describeTarget(target);
          const read = options.update === true && !tried.has(key) ? undefined : reader.read(target);
          if (read === undefined || read.kind === 'missing') missing.set(key, target);
          if (read?.kind === 'refused') refused.push(`${key}: ${read.message}`);
          return read ?? { kind: 'missing', hint: 'fetched next' };
        },
      };
      locals.clear();
      readEveryConfig(sources, main, { trigger, variables: options.variables ?? new Map(), external: recording });
      if (refused.length > 0)
        throw new RefusedError(
          'INCLUDE_PATH_UNSAFE',
          `${refused.length} include(s) cannot be kept in the include directory`,
          {
            hint: refused.join('; '),
          },
        );
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

/** Fetches one include at a time, each GitLab client made once. */
class IncludeFetcher {
  private server: Promise<GitLabFiles> | undefined;
  private templates: Promise<GitLabFiles> | undefined;
  /** The commit each `projects/<project>@<ref>` directory was fetched at: its other files come from the same one. */
  private readonly commits = new Map<string, string>();

  constructor(
    private readonly context: AppContext,
    private readonly options: FetchIncludesOptions,
    private readonly clients: IncludeClients,
    private readonly lock: IncludeLock,
  ) {
    if (options.update !== true)
      for (const entry of Object.values(lock.entries)) this.remember(entry.path, entry.commit);
  }

  private remember(path: string, commit: string | undefined): void {
    const at = path.indexOf('@');
    const end = path.indexOf('/', at);
    if (path.startsWith('projects/') && at > 0 && end > at && commit !== undefined)
      this.commits.set(path.slice(0, end), commit);
  }

  private serverUrl(): string {
    const url = this.options.server ?? this.context.env.CI_SERVER_URL;
    if (url === undefined)
      throw new UsageError('which GitLab server? project and component includes come from one', {
        hint: 'pass --server https://gitlab.example.com or set CI_SERVER_URL',
      });
    return url.replace(/\/+$/, '');
  }

  private gitlab(): Promise<GitLabFiles> {
    this.server ??= this.clients.gitlab(this.serverUrl());
    return this.server;
  }

  async fetch(target: ExternalTarget, dir: string): Promise<IncludeLockEntry> {
    const paths = includeDirPaths(target);
    if (paths === undefined)
      throw new RefusedError(
        'INCLUDE_PATH_UNSAFE',
        `include: ${describeTarget(target)}: its name is not a path that can be kept in the include directory`,
      );
    const pinned = this.options.update === true ? undefined : this.lock.entries[describeTarget(target)];
    const got = await this.bytesOf(target, paths, pinned);
    if (got.bytes.byteLength > MAX_YAML_SIZE_BYTES)
      throw new RefusedError(
        'INCLUDE_TOO_BIG',
        `include: ${describeTarget(target)} is larger than GitLab's max_yaml_size_bytes`,
      );
    const sha256 = sha256Hex(got.bytes);
    if (pinned !== undefined && pinned.sha256 !== sha256)
      throw new RefusedError(
        'INCLUDE_CHANGED',
        `include: ${describeTarget(target)} is not what the lock pinned (sha256 ${pinned.sha256}, now ${sha256})`,
        {
          hint: 'if the change is expected, fetch with --update to pin the new content',
        },
      );
    await writeIncludeFile(dir, got.path, got.bytes);
    this.remember(got.path, got.pin.commit);
    this.context.progress(`fetched ${describeTarget(target)} → ${got.path}`);
    return { path: got.path, source: got.source, sha256, ...got.pin };
  }

  private async bytesOf(
    target: ExternalTarget,
    paths: readonly string[],
    pinned: IncludeLockEntry | undefined,
  ): Promise<{ bytes: Uint8Array; path: string; source: string; pin: Partial<IncludeLockEntry> }> {
    const [first = ''] = paths;
    switch (target.kind) {
      case 'remote': {
        const remote = await this.clients.remote(target.url);
        const problem = target.integrity === undefined ? undefined : integrityProblem(remote.bytes, target.integrity);
        if (problem !== undefined)
          throw new RefusedError('INCLUDE_INTEGRITY', `include: remote ${target.url}: ${problem}`);
        return { bytes: remote.bytes, path: first, source: target.url, pin: {} };
      }
      case 'template':
        return this.template(target.name, first, pinned);
      case 'project': {
        const api = await this.gitlab();
        const base = projectDir(target.project, target.ref ?? 'HEAD') ?? '';
        const commit = pinned?.commit ?? this.commits.get(base) ?? (await api.commitOf(target.project, target.ref));
        const file = target.file.replace(/^\/+/, '');
        const bytes = await api.rawFile(target.project, file, commit);
        if (bytes === undefined)
          throw new ExternalError(
            'INCLUDE_NOT_FOUND',
            `include: project ${target.project} has no ${file} at ${target.ref ?? 'its default branch'} (${commit})`,
          );
        return {
          bytes,
          path: first,
          source: `${this.serverUrl()}/${target.project}/-/blob/${commit}/${file}`,
          pin: { ref: target.ref ?? 'HEAD', commit },
        };
      }
      case 'component':
        return this.component(target, paths, pinned);
    }
  }

  private async component(
    target: Extract<ExternalTarget, { kind: 'component' }>,
    paths: readonly string[],
    pinned: IncludeLockEntry | undefined,
  ) {
    const server = new URL(this.serverUrl());
    if (target.host !== server.host)
      throw new RefusedError(
        'COMPONENT_OTHER_INSTANCE',
        `include: ${describeTarget(target)}: components come from the same GitLab instance (${server.host})`,
        {
          hint: 'use $CI_SERVER_FQDN in the component address, or fetch with --server for that instance',
        },
      );
    const api = await this.gitlab();
    let version = pinned?.version ?? target.version;
    if (pinned === undefined && isReleaseSelector(target.version)) {
      const release = selectRelease(await api.releaseTags(target.project), target.version);
      if (release === undefined)
        throw new ExternalError(
          'INCLUDE_NOT_FOUND',
          `include: ${describeTarget(target)}: ${target.project} has no release matching ${target.version}`,
        );
      version = release;
    }
    const commit = pinned?.commit ?? (await api.commitOf(target.project, version));
    const files = [`templates/${target.name}.yml`, `templates/${target.name}/template.yml`];
    for (const [index, file] of files.entries()) {
      const bytes = await api.rawFile(target.project, file, commit);
      if (bytes !== undefined)
        return {
          bytes,
          path: paths[index] ?? '',
          source: `${this.serverUrl()}/${target.project}/-/blob/${commit}/${file}`,
          pin: { ref: target.version, commit, ...(version === target.version ? {} : { version }) },
        };
    }
    throw new ExternalError(
      'INCLUDE_NOT_FOUND',
      `include: ${describeTarget(target)}: ${target.project} has no ${files.join(' or ')} at ${version} (${commit})`,
    );
  }

  /** `include: template:` from GitLab's own repository, lib/gitlab/ci/templates, at the server's version. */
  private async template(name: string, path: string, pinned: IncludeLockEntry | undefined) {
    const url = (this.options.templateServer ?? 'https://gitlab.com').replace(/\/+$/, '');
    this.templates ??= this.clients.gitlab(url);
    const api = await this.templates;
    const ref = this.options.templateRef ?? (await this.serverRef());
    const commit = pinned?.commit ?? (await api.commitOf(TEMPLATE_PROJECT, ref));
    const file = `${TEMPLATE_DIR}/${name}`;
    const bytes = await api.rawFile(TEMPLATE_PROJECT, file, commit);
    if (bytes === undefined)
      throw new ExternalError('INCLUDE_NOT_FOUND', `include: template ${name}: GitLab has no ${file} at ${ref}`);
    return { bytes, path, source: `${url}/${TEMPLATE_PROJECT}/-/blob/${commit}/${file}`, pin: { ref, commit } };
  }

  /** The tag of the server's GitLab version (17.3.1-ee → v17.3.1-ee), else master. */
  private async serverRef(): Promise<string> {
    const url = this.options.server ?? this.context.env.CI_SERVER_URL;
    const version = url === undefined ? undefined : await (await this.gitlab()).serverVersion();
    return version === undefined ? 'master' : `v${version}`;
  }
}
