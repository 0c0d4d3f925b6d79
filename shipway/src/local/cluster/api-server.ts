import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { DISCOVERY } from './api-discovery.js';
import { bearerMatches, failure, MAX_BODY_BYTES, readLimitedBody, verbOf } from './api-request.js';
import type { KubeObject, ObjectStore, StoreEvent } from './object-store.js';
import { isObject, mergePatchRollout } from './rollout-patch.js';
import type { ServingCertificate } from './serving-certificate.js';

export interface PatchRecord {
  readonly target: 'status' | 'main';
  readonly contentType: string;
  readonly body: Record<string, unknown>;
  readonly status: number;
}

export interface ApiServerHooks {
  /** Return false to answer 403, as RBAC would. */
  authorize?(verb: string, resource: string, namespace: string): boolean;
  /** Sees every PATCH and the status it got. */
  onPatch?(record: PatchRecord): void;
  /** Runs before a PATCH is applied (tests move the object under the client here). */
  beforePatch?(): void;
  /** Extra read-only JSON endpoints by path (the embedded cluster's /shipway/v1/status). */
  extra?: ReadonlyMap<string, () => unknown>;
}

export interface ApiServerOptions {
  /** The bearer token every request must carry: the kubeconfig's users[].user.token. */
  readonly token: string;
  /** HTTPS only: kubectl (client-go) sends a bearer token over TLS and never over plain HTTP. */
  readonly tls: ServingCertificate;
  readonly hooks?: ApiServerHooks;
  /** Namespaces listed besides those of stored Rollouts. */
  readonly namespaces?: () => string[];
}

const ROLLOUTS = /^\/apis\/argoproj\.io\/v1alpha1(?:\/namespaces\/([^/]+))?\/rollouts(?:\/([^/]+))?(\/status)?$/;
const REPLICA_SETS = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/replicasets$/;
const ANALYSIS_RUNS = /^\/apis\/argoproj\.io\/v1alpha1\/namespaces\/([^/]+)\/analysisruns(?:\/([^/]+))?$/;

/**
 * The subset of the Kubernetes API that shipway and `kubectl get` need, served from an
 * ObjectStore over HTTPS on 127.0.0.1: discovery, namespaces, Rollouts (get, list, watch,
 * merge-patch of the object and its status subresource, with resourceVersion preconditions) and
 * ReplicaSets by label, AnalysisRuns (get and list, read-only). Every request must carry the bearer token (401 otherwise, discovery
 * included: there is no anonymous access); other methods get 405; bodies over 3 MiB, 413.
 */
export class ApiServer {
  private server: Server | undefined;
  private readonly watches = new Set<ServerResponse>();
  private readonly hooks: ApiServerHooks;
  url = '';

  constructor(
    private readonly store: ObjectStore,
    private readonly options: ApiServerOptions,
  ) {
    if (options.token === '') throw new Error('the API server needs a bearer token');
    this.hooks = options.hooks ?? {};
  }

  async listen(port = 0): Promise<string> {
    const { key, cert } = this.options.tls;
    this.server = createServer({ key, cert }, (request, response) => {
      this.handle(request, response).catch((error: unknown) =>
        this.send(response, 500, failure(500, 'InternalError', String(error))),
      );
    });
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(port, '127.0.0.1', resolve);
    });
    this.url = `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async close(): Promise<void> {
    for (const response of this.watches) response.end();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server === undefined ? resolve() : this.server.close(() => resolve())));
  }

  /** `close`: the connection ends after this answer, so a body the client is still sending is not read. */
  private send(response: ServerResponse, status: number, body: unknown, close = false): void {
    if (!response.headersSent)
      response.writeHead(status, { 'content-type': 'application/json', ...(close ? { connection: 'close' } : {}) });
    response.end(JSON.stringify(body));
  }

  private notAllowed(response: ServerResponse, method: string, kind: string): void {
    // kube-apiserver's NewMethodNotSupported (k8s.io/apimachinery/pkg/api/errors).
    const message = `${verbOf(method)} is not supported on resources of kind "${kind}"`;
    this.send(response, 405, failure(405, 'MethodNotAllowed', message), true);
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    // Authentication comes before anything else, for every path, as in kube-apiserver's filter
    // chain with anonymous auth off (k8s.io/apiserver/pkg/endpoints/filters/authentication.go).
    if (!bearerMatches(request.headers.authorization, this.options.token))
      return this.send(response, 401, failure(401, 'Unauthorized', 'Unauthorized'), true);
    const url = new URL(request.url ?? '/', 'http://api');
    const path = url.pathname.replace(/\/$/, '');
    const method = request.method ?? 'GET';
    const document = DISCOVERY.has(path) ? () => DISCOVERY.get(path) : this.hooks.extra?.get(path);
    if (document !== undefined)
      return method === 'GET' ? this.send(response, 200, document()) : this.notAllowed(response, method, path);
    if (path === '/api/v1/namespaces')
      return method === 'GET' ? this.listNamespaces(response) : this.notAllowed(response, method, 'namespaces');
    const replicaSets = REPLICA_SETS.exec(path);
    if (replicaSets !== null)
      return method === 'GET'
        ? this.listReplicaSets(response, replicaSets[1] ?? '', url)
        : this.notAllowed(response, method, 'replicasets.apps');
    const runs = ANALYSIS_RUNS.exec(path);
    if (runs !== null)
      return method === 'GET'
        ? this.readAnalysisRuns(response, runs[1] ?? '', runs[2])
        : this.notAllowed(response, method, 'analysisruns.argoproj.io');
    const rollouts = ROLLOUTS.exec(path);
    if (rollouts === null)
      return this.send(
        response,
        404,
        failure(404, 'NotFound', `the server could not find the requested resource (${path})`),
      );
    const [, namespace, name, status] = rollouts;
    // A collection is listed and watched; one Rollout (or its status) is read and merge-patched.
    if (method !== 'GET' && (method !== 'PATCH' || name === undefined))
      return this.notAllowed(response, method, 'rollouts.argoproj.io');
    return this.serveRollouts(request, response, url, { namespace, name, status: status !== undefined });
  }

  private serveRollouts(
    request: IncomingMessage,
    response: ServerResponse,
    url: URL,
    target: { namespace: string | undefined; name: string | undefined; status: boolean },
  ): Promise<void> | void {
    const { namespace, name } = target;
    const verb =
      request.method === 'PATCH'
        ? 'patch'
        : url.searchParams.get('watch') === 'true'
          ? 'watch'
          : name === undefined
            ? 'list'
            : 'get';
    const resource = target.status ? 'rollouts/status' : 'rollouts';
    if (this.hooks.authorize?.(verb, resource, namespace ?? '') === false) {
      request.resume();
      return this.send(
        response,
        403,
        failure(
          403,
          'Forbidden',
          `${resource} "${name ?? ''}" is forbidden: cannot ${verb} resource "${resource}" in namespace "${namespace ?? ''}"`,
        ),
      );
    }
    if (verb === 'watch')
      return this.watch(
        request,
        response,
        namespace,
        url.searchParams.get('fieldSelector')?.replace(/^metadata\.name=/, ''),
      );
    if (verb === 'list') {
      return this.send(response, 200, {
        kind: 'RolloutList',
        apiVersion: 'argoproj.io/v1alpha1',
        metadata: { resourceVersion: this.store.resourceVersion },
        items: this.store.list('Rollout', namespace),
      });
    }
    if (verb === 'get') {
      const object = this.store.get('Rollout', namespace ?? '', name ?? '');
      return object === undefined
        ? this.send(response, 404, failure(404, 'NotFound', `rollouts.argoproj.io "${name}" not found`))
        : this.send(response, 200, object);
    }
    return this.patch(request, response, namespace ?? '', name ?? '', target.status ? 'status' : 'main');
  }

  private listNamespaces(response: ServerResponse): void {
    const names = new Set([
      ...(this.options.namespaces?.() ?? []),
      ...this.store.list('Rollout').map((object) => object.metadata.namespace),
    ]);
    this.send(response, 200, {
      kind: 'NamespaceList',
      apiVersion: 'v1',
      metadata: {},
      items: [...names]
        .sort()
        .map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name }, status: { phase: 'Active' } })),
    });
  }

  /** AnalysisRuns, read-only: the list of a namespace or one run (measurements included). */
  private readAnalysisRuns(response: ServerResponse, namespace: string, name: string | undefined): void {
    const verb = name === undefined ? 'list' : 'get';
    const run = name === undefined ? undefined : this.store.get('AnalysisRun', namespace, name);
    if (this.hooks.authorize?.(verb, 'analysisruns', namespace) === false) {
      const message = `analysisruns.argoproj.io is forbidden: cannot ${verb} resource "analysisruns" in namespace "${namespace}"`;
      this.send(response, 403, failure(403, 'Forbidden', message));
    } else if (name === undefined) {
      this.send(response, 200, {
        kind: 'AnalysisRunList',
        apiVersion: 'argoproj.io/v1alpha1',
        metadata: { resourceVersion: this.store.resourceVersion },
        items: this.store.list('AnalysisRun', namespace),
      });
    } else if (run === undefined) {
      this.send(response, 404, failure(404, 'NotFound', `analysisruns.argoproj.io "${name}" not found`));
    } else {
      this.send(response, 200, run);
    }
  }

  private listReplicaSets(response: ServerResponse, namespace: string, url: URL): void {
    this.listByLabel(response, ['ReplicaSet', 'replicasets', 'apps/v1'], namespace, url);
  }

  /** A namespace's objects of one kind, filtered by a `key=value` labelSelector. */
  private listByLabel(
    response: ServerResponse,
    [kind, resource, apiVersion]: readonly [string, string, string],
    namespace: string,
    url: URL,
  ): void {
    const group = apiVersion.includes('/') ? `.${apiVersion.split('/')[0]}` : '';
    if (this.hooks.authorize?.('list', resource, namespace) === false) {
      const message = `${resource}${group} is forbidden: cannot list resource "${resource}" in namespace "${namespace}"`;
      this.send(response, 403, failure(403, 'Forbidden', message));
      return;
    }
    const [key, value] = (url.searchParams.get('labelSelector') ?? '').split('=');
    const items = this.store.list(kind, namespace).filter((object) => {
      const labels = (object.metadata.labels ?? {}) as Record<string, string>;
      return key === undefined || key === '' || labels[key] === value;
    });
    this.send(response, 200, {
      kind: `${kind}List`,
      apiVersion,
      metadata: { resourceVersion: this.store.resourceVersion },
      items,
    });
  }

  private watch(
    request: IncomingMessage,
    response: ServerResponse,
    namespace: string | undefined,
    name: string | undefined,
  ): void {
    response.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    const matches = (object: KubeObject) =>
      object.kind === 'Rollout' &&
      (namespace === undefined || object.metadata.namespace === namespace) &&
      (name === undefined || object.metadata.name === name);
    const listener = (event: StoreEvent) => {
      if (matches(event.object)) response.write(`${JSON.stringify(event)}\n`);
    };
    for (const object of this.store.list('Rollout', namespace))
      if (matches(object)) response.write(`${JSON.stringify({ type: 'ADDED', object })}\n`);
    this.store.on('change', listener);
    this.watches.add(response);
    const stop = () => {
      this.store.off('change', listener);
      this.watches.delete(response);
    };
    request.on('close', stop);
    response.on('close', stop);
  }

  private async patch(
    request: IncomingMessage,
    response: ServerResponse,
    namespace: string,
    name: string,
    target: 'status' | 'main',
  ): Promise<void> {
    const bytes = await readLimitedBody(request, MAX_BODY_BYTES);
    const contentType = String(request.headers['content-type'] ?? '');
    const answer = (status: number, body: unknown, patchBody: unknown = {}) => {
      this.hooks.onPatch?.({ target, contentType, body: isObject(patchBody) ? patchBody : {}, status });
      this.send(response, status, body, status === 413);
    };
    if (bytes === 'aborted') return void response.destroy();
    if (bytes === 'too-large')
      return answer(413, failure(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${MAX_BODY_BYTES}`));
    let body: unknown;
    try {
      body = JSON.parse(bytes.toString());
    } catch {
      return answer(400, failure(400, 'BadRequest', 'error decoding patch: the patch is not JSON'));
    }
    this.hooks.beforePatch?.();
    const outcome = mergePatchRollout(this.store, { namespace, name, target, contentType, body });
    answer(outcome.status, outcome.body, body);
  }
}
