import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { DISCOVERY } from './api-discovery.js';
import { bearerMatches, failure, sendJson, verbOf } from './api-request.js';
import type { ObjectStore } from './object-store.js';
import { type ApiHooks, RolloutResource } from './rollout-resource.js';
import type { ServingCertificate } from './serving-certificate.js';

export type { PatchRecord } from './rollout-resource.js';

export interface ApiServerHooks extends ApiHooks {
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
  private readonly hooks: ApiServerHooks;
  private readonly rollouts: RolloutResource;
  url = '';

  constructor(
    private readonly store: ObjectStore,
    private readonly options: ApiServerOptions,
  ) {
    if (options.token === '') throw new Error('the API server needs a bearer token');
    this.hooks = options.hooks ?? {};
    this.rollouts = new RolloutResource(store, this.hooks);
  }

  async listen(port = 0): Promise<string> {
    const { key, cert } = this.options.tls;
    this.server = createServer({ key, cert }, (request, response) => {
      this.handle(request, response).catch((error: unknown) =>
        sendJson(response, 500, failure(500, 'InternalError', String(error))),
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
    this.rollouts.endWatches();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server === undefined ? resolve() : this.server.close(() => resolve())));
  }

  private notAllowed(response: ServerResponse, method: string, kind: string): void {
    // kube-apiserver's NewMethodNotSupported (k8s.io/apimachinery/pkg/api/errors).
    const message = `${verbOf(method)} is not supported on resources of kind "${kind}"`;
    sendJson(response, 405, failure(405, 'MethodNotAllowed', message), true);
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    // Authentication comes before anything else, for every path, as in kube-apiserver's filter
    // chain with anonymous auth off (k8s.io/apiserver/pkg/endpoints/filters/authentication.go).
    if (!bearerMatches(request.headers.authorization, this.options.token))
      return sendJson(response, 401, failure(401, 'Unauthorized', 'Unauthorized'), true);
    const url = new URL(request.url ?? '/', 'http://api');
    const path = url.pathname.replace(/\/$/, '');
    const method = request.method ?? 'GET';
    const document = DISCOVERY.has(path) ? () => DISCOVERY.get(path) : this.hooks.extra?.get(path);
    if (document !== undefined)
      return method === 'GET' ? sendJson(response, 200, document()) : this.notAllowed(response, method, path);
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
      return sendJson(
        response,
        404,
        failure(404, 'NotFound', `the server could not find the requested resource (${path})`),
      );
    const [, namespace, name, status] = rollouts;
    // A collection is listed and watched; one Rollout (or its status) is read and merge-patched.
    if (method !== 'GET' && (method !== 'PATCH' || name === undefined))
      return this.notAllowed(response, method, 'rollouts.argoproj.io');
    return this.rollouts.serve(request, response, url, { namespace, name, status: status !== undefined });
  }

  private listNamespaces(response: ServerResponse): void {
    const names = new Set([
      ...(this.options.namespaces?.() ?? []),
      ...this.store.list('Rollout').map((object) => object.metadata.namespace),
    ]);
    sendJson(response, 200, {
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
      sendJson(response, 403, failure(403, 'Forbidden', message));
    } else if (name === undefined) {
      sendJson(response, 200, {
        kind: 'AnalysisRunList',
        apiVersion: 'argoproj.io/v1alpha1',
        metadata: { resourceVersion: this.store.resourceVersion },
        items: this.store.list('AnalysisRun', namespace),
      });
    } else if (run === undefined) {
      sendJson(response, 404, failure(404, 'NotFound', `analysisruns.argoproj.io "${name}" not found`));
    } else {
      sendJson(response, 200, run);
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
      sendJson(response, 403, failure(403, 'Forbidden', message));
      return;
    }
    const [key, value] = (url.searchParams.get('labelSelector') ?? '').split('=');
    const items = this.store.list(kind, namespace).filter((object) => {
      const labels = (object.metadata.labels ?? {}) as Record<string, string>;
      return key === undefined || key === '' || labels[key] === value;
    });
    sendJson(response, 200, {
      kind: `${kind}List`,
      apiVersion,
      metadata: { resourceVersion: this.store.resourceVersion },
      items,
    });
  }
}
