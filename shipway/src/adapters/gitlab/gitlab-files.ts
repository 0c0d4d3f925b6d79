import { ExternalError } from '../../core/errors.js';

/** What the include fetcher asks GitLab's REST API (https://docs.gitlab.com/api/). */
export interface GitLabFiles {
  /** The commit a ref (branch, tag or SHA) names; the default branch's head when ref is undefined. */
  commitOf(project: string, ref: string | undefined): Promise<string>;
  /** The project's release tags (the CI/CD catalog's versions), newest first as GitLab lists them. */
  releaseTags(project: string): Promise<string[]>;
  /** A file's bytes at a commit, or undefined when the project has no such file there. */
  rawFile(project: string, path: string, commit: string): Promise<Uint8Array | undefined>;
  /** The server's version (`17.3.1-ee`), or undefined when it does not say. */
  serverVersion(): Promise<string | undefined>;
}

export interface GitLabConnection {
  /** The server, e.g. https://gitlab.example.com. */
  readonly url: string;
  /** A personal, project or group access token (PRIVATE-TOKEN). */
  readonly token?: string | undefined;
  /** A CI job token (JOB-TOKEN), as a job has in CI_JOB_TOKEN. */
  readonly jobToken?: string | undefined;
  readonly timeoutMs?: number | undefined;
}

/** The HTTP status of a GitbeakerRequestError (its cause holds the response). */
function statusOf(error: unknown): number | undefined {
  const cause = error instanceof Error ? error.cause : undefined;
  if (typeof cause !== 'object' || cause === null || !('response' in cause)) return undefined;
  const { response } = cause;
  if (typeof response !== 'object' || response === null || !('status' in response)) return undefined;
  return typeof response.status === 'number' ? response.status : undefined;
}

/**
 * GitLab's files, refs and releases through @gitbeaker/rest. Errors name the project and what was
 * asked, never the request (its headers hold the token): the original error is not kept as cause.
 */
export async function gitLabFiles(connection: GitLabConnection): Promise<GitLabFiles> {
  const { Gitlab } = await import('@gitbeaker/rest');
  const base = { host: connection.url, queryTimeout: connection.timeoutMs ?? 30_000 };
  const api =
    connection.token !== undefined
      ? new Gitlab({ ...base, token: connection.token })
      : connection.jobToken !== undefined
        ? new Gitlab({ ...base, jobToken: connection.jobToken })
        : new Gitlab(base);
  const fail = (what: string, error: unknown): never => {
    const status = statusOf(error);
    const hint =
      status === 401 || status === 403
        ? 'GitLab refused the token: give one that can read the project (read_api or read_repository), with GITLAB_TOKEN or --token'
        : status === 404
          ? 'check the project path and ref; a private project also answers 404 without a token that can read it'
          : `check that ${connection.url} is a GitLab server this machine can reach`;
    const reason = status === undefined ? (error instanceof Error ? error.name : 'request failed') : `HTTP ${status}`;
    throw new ExternalError('GITLAB_REQUEST_FAILED', `GitLab ${connection.url}: ${what}: ${reason}`, { hint });
  };
  return {
    async commitOf(project, ref) {
      try {
        const name = ref ?? String((await api.Projects.show(project)).default_branch);
        return (await api.Commits.show(project, name)).id;
      } catch (error) {
        return fail(`the commit of ${project}@${ref ?? '(default branch)'}`, error);
      }
    },
    async releaseTags(project) {
      try {
        return (await api.ProjectReleases.all(project, { perPage: 100, maxPages: 10 })).map(
          (release) => release.tag_name,
        );
      } catch (error) {
        return fail(`the releases of ${project}`, error);
      }
    },
    async rawFile(project, path, commit) {
      try {
        const body = await api.RepositoryFiles.showRaw(project, path, commit);
        return typeof body === 'string' ? Buffer.from(body, 'utf8') : new Uint8Array(await body.arrayBuffer());
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        return fail(`${path} of ${project} at ${commit}`, error);
      }
    },
    async serverVersion() {
      try {
        return (await api.Metadata.show()).version;
      } catch {
        return undefined;
      }
    },
  };
}
