import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// A stand-in for the parts of GitLab's REST API (https://docs.gitlab.com/api/) that
// `shipway includes fetch` uses, at the HTTP level, driven through the real @gitbeaker/rest
// client: project (default branch), commits (a ref to its commit), releases (tag names),
// repository files raw at a ref, metadata (the server version). Plus plain files under /raw/ for
// `include: remote:`. Every request is recorded with its token headers, so tests can check who
// received the token.

export interface FakeProject {
  readonly defaultBranch: string;
  /** ref (branch, tag or sha) → commit sha. */
  readonly refs: Readonly<Record<string, string>>;
  /** commit sha → path → content. */
  readonly files: Readonly<Record<string, Readonly<Record<string, string>>>>;
  readonly releases?: readonly string[];
  /** Only this token may read the project; others get 404, as GitLab answers for private projects. */
  readonly token?: string;
}

export interface RecordedRequest {
  readonly path: string;
  readonly privateToken: string | undefined;
  readonly jobToken: string | undefined;
  readonly authorization: string | undefined;
}

export interface FakeGitLab {
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Files served as they are under /raw/<path>, for remote includes. */
  readonly remote: Map<string, string>;
  readonly projects: Map<string, FakeProject>;
  close(): Promise<void>;
}

/** Answers the request; true, so a route can `return send(…)`. */
function send(response: ServerResponse, status: number, body: unknown, type = 'application/json'): true {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  response.writeHead(status, { 'content-type': type }).end(text);
  return true;
}

function route(
  fake: Pick<FakeGitLab, 'remote' | 'projects'>,
  request: IncomingMessage,
  response: ServerResponse,
): true {
  const url = new URL(request.url ?? '/', 'http://fake');
  // The raw path: project ids and file paths arrive percent-encoded (acme%2Ftools).
  const raw = (request.url ?? '/').split('?')[0] ?? '/';
  if (raw.startsWith('/raw/')) {
    const file = fake.remote.get(decodeURIComponent(raw.slice('/raw/'.length)));
    return file === undefined
      ? send(response, 404, 'not found', 'text/plain')
      : send(response, 200, file, 'text/plain');
  }
  if (raw === '/api/v4/metadata')
    return send(response, 200, { version: '17.3.1-ee', revision: 'abc', enterprise: true });
  const match = /^\/api\/v4\/projects\/([^/]+)(\/.*)?$/.exec(raw);
  const project = match === null ? undefined : fake.projects.get(decodeURIComponent(match[1] ?? ''));
  const token = request.headers['private-token'] ?? request.headers['job-token'];
  if (project === undefined || (project.token !== undefined && token !== project.token))
    return send(response, 404, { message: '404 Project Not Found' });
  const rest = match?.[2] ?? '';
  if (rest === '') return send(response, 200, { default_branch: project.defaultBranch });
  const commit = /^\/repository\/commits\/([^/]+)$/.exec(rest);
  if (commit !== null) {
    const ref = decodeURIComponent(commit[1] ?? '');
    const sha = project.refs[ref] ?? (project.files[ref] === undefined ? undefined : ref);
    return sha === undefined
      ? send(response, 404, { message: '404 Commit Not Found' })
      : send(response, 200, { id: sha });
  }
  if (rest === '/releases')
    return send(
      response,
      200,
      (project.releases ?? []).map((tag) => ({ tag_name: tag, name: tag, commit: { id: project.refs[tag] } })),
    );
  const file = /^\/repository\/files\/([^/]+)\/raw$/.exec(rest);
  if (file !== null) {
    const ref = url.searchParams.get('ref') ?? '';
    const content = project.files[project.refs[ref] ?? ref]?.[decodeURIComponent(file[1] ?? '')];
    return content === undefined
      ? send(response, 404, { message: '404 File Not Found' })
      : send(response, 200, content, 'text/plain; charset=utf-8');
  }
  return send(response, 404, { message: '404 Not Found' });
}

export async function startFakeGitLab(projects: Record<string, FakeProject> = {}): Promise<FakeGitLab> {
  const requests: RecordedRequest[] = [];
  const state = { remote: new Map<string, string>(), projects: new Map(Object.entries(projects)) };
  const server: Server = createServer((request, response) => {
    const header = (name: string) => {
      const value = request.headers[name];
      return Array.isArray(value) ? value.join(',') : value;
    };
    requests.push({
      path: request.url ?? '/',
      privateToken: header('private-token'),
      jobToken: header('job-token'),
      authorization: header('authorization'),
    });
    route(state, request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    ...state,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
