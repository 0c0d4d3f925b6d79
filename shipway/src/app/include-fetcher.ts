import { writeIncludeFile } from '../adapters/files/include-files.js';
import type { GitLabFiles } from '../adapters/gitlab/gitlab-files.js';
import type { RemoteFile } from '../adapters/http/fetch-remote.js';
import { ExternalError, RefusedError, UsageError } from '../core/errors.js';
import { describeTarget, type ExternalTarget } from '../core/pipeline/include-entry.js';
import { includeDirPaths, projectDir } from '../core/pipeline/include-paths.js';
import { integrityProblem, isReleaseSelector, selectRelease, sha256Hex } from '../core/pipeline/include-pins.js';
import { MAX_YAML_SIZE_BYTES } from '../core/pipeline/yaml-limits.js';
import type { AppContext } from './context.js';
import type { IncludeLock, IncludeLockEntry } from './include-lock.js';

/** The outside systems fetching reads; tests and other hosts pass their own. */
export interface IncludeClients {
  readonly gitlab: (url: string) => Promise<GitLabFiles>;
  readonly remote: (url: string) => Promise<RemoteFile>;
}

/** What `shipway includes fetch` was told about where includes come from. */
export interface IncludeSourceOptions {
  /** The GitLab server (default $CI_SERVER_URL). */
  readonly server?: string | undefined;
  /** Resolve refs and versions again instead of keeping what the lock pinned. */
  readonly update?: boolean | undefined;
  /** Where `include: template:` comes from: GitLab's repository (gitlab-org/gitlab) on this server, at this ref. */
  readonly templateServer?: string | undefined;
  readonly templateRef?: string | undefined;
}

const TEMPLATE_PROJECT = 'gitlab-org/gitlab';
const TEMPLATE_DIR = 'lib/gitlab/ci/templates';

/** Fetches one include at a time, each GitLab client made once. */
export class IncludeFetcher {
  private server: Promise<GitLabFiles> | undefined;
  private templates: Promise<GitLabFiles> | undefined;
  /** The commit each `projects/<project>@<ref>` directory was fetched at: its other files come from the same one. */
  private readonly commits = new Map<string, string>();

  constructor(
    private readonly context: AppContext,
    private readonly options: IncludeSourceOptions,
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
      throw new UsageError('USAGE', 'which GitLab server? project and component includes come from one', {
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
