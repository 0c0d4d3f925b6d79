import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type KubeObject, mergePatch, type ObjectStore, type StoreEvent } from './object-store.js';

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
  /** Extra read-only JSON endpoints (the embedded cluster's /shipway/v1/status). */
  extra?(path: string): unknown;
}

const ROLLOUT_RESOURCES = {
  kind: 'APIResourceList',
  apiVersion: 'v1',
  groupVersion: 'argoproj.io/v1alpha1',
  resources: [
    {
      name: 'rollouts',
      singularName: 'rollout',
      namespaced: true,
      kind: 'Rollout',
      shortNames: ['ro'],
      verbs: ['get', 'list', 'watch', 'patch'],
    },
    { name: 'rollouts/status', singularName: '', namespaced: true, kind: 'Rollout', verbs: ['get', 'patch'] },
  ],
};
const APPS_RESOURCES = {
  kind: 'APIResourceList',
  apiVersion: 'v1',
  groupVersion: 'apps/v1',
  resources: [
    {
      name: 'replicasets',
      singularName: 'replicaset',
      namespaced: true,
      kind: 'ReplicaSet',
      shortNames: ['rs'],
      verbs: ['get', 'list'],
    },
  ],
};
const CORE_RESOURCES = {
  kind: 'APIResourceList',
  apiVersion: 'v1',
  groupVersion: 'v1',
  resources: [
    {
      name: 'namespaces',
      singularName: 'namespace',
      namespaced: false,
      kind: 'Namespace',
      shortNames: ['ns'],
      verbs: ['get', 'list'],
    },
  ],
};
const GROUPS = {
  kind: 'APIGroupList',
  apiVersion: 'v1',
  groups: [
    {
      name: 'apps',
      versions: [{ groupVersion: 'apps/v1', version: 'v1' }],
      preferredVersion: { groupVersion: 'apps/v1', version: 'v1' },
    },
    {
      name: 'argoproj.io',
      versions: [{ groupVersion: 'argoproj.io/v1alpha1', version: 'v1alpha1' }],
      preferredVersion: { groupVersion: 'argoproj.io/v1alpha1', version: 'v1alpha1' },
    },
  ],
};

function failure(code: number, reason: string, message: string): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

/**
 * The subset of the Kubernetes API that shipway and `kubectl get` need, served from an
 * ObjectStore on 127.0.0.1: discovery, namespaces, Rollouts (get, list, watch, merge-patch of the
 * object and its status subresource, with resourceVersion preconditions) and ReplicaSets by label.
 */
export class ApiServer {
  private server: Server | undefined;
  private readonly watches = new Set<ServerResponse>();
  url = '';

  constructor(
    private readonly store: ObjectStore,
    private readonly hooks: ApiServerHooks = {},
    private readonly namespaces: () => string[] = () => [],
  ) {}

  async listen(port = 0): Promise<string> {
    this.server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) =>
        this.send(response, 500, failure(500, 'InternalError', String(error))),
      );
    });
    await new Promise<void>((resolve) => this.server?.listen(port, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async close(): Promise<void> {
    for (const response of this.watches) response.end();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server === undefined ? resolve() : this.server.close(() => resolve())));
  }

  private send(response: ServerResponse, status: number, body: unknown): void {
    if (!response.headersSent) response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://api');
    const path = url.pathname.replace(/\/$/, '');
    const fixed: Record<string, unknown> = {
      '/version': {
        major: '1',
        minor: '32',
        gitVersion: 'v1.32.0-shipway-embedded',
        platform: `${process.platform}/${process.arch}`,
      },
      '/api': { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] },
      '/api/v1': CORE_RESOURCES,
      '/apis': GROUPS,
      '/apis/argoproj.io/v1alpha1': ROLLOUT_RESOURCES,
      '/apis/apps/v1': APPS_RESOURCES,
    };
    if (request.method === 'GET' && fixed[path] !== undefined) return this.send(response, 200, fixed[path]);
    const extra = request.method === 'GET' ? this.hooks.extra?.(path) : undefined;
    if (extra !== undefined) return this.send(response, 200, extra);
    if (request.method === 'GET' && path === '/api/v1/namespaces') {
      const names = new Set([
        ...this.namespaces(),
        ...this.store.list('Rollout').map((object) => object.metadata.namespace),
      ]);
      return this.send(response, 200, {
        kind: 'NamespaceList',
        apiVersion: 'v1',
        metadata: {},
        items: [...names]
          .sort()
          .map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name }, status: { phase: 'Active' } })),
      });
    }
    const replicaSets = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/replicasets$/.exec(path);
    if (replicaSets !== null) return this.listReplicaSets(response, replicaSets[1] ?? '', url);
    const rollouts =
      /^\/apis\/argoproj\.io\/v1alpha1(?:\/namespaces\/([^/]+))?\/rollouts(?:\/([^/]+))?(\/status)?$/.exec(path);
    if (rollouts === null)
      return this.send(
        response,
        404,
        failure(404, 'NotFound', `the server could not find the requested resource (${path})`),
      );
    const [, namespace, name, status] = rollouts;
    const verb =
      request.method === 'PATCH'
        ? 'patch'
        : url.searchParams.get('watch') === 'true'
          ? 'watch'
          : name === undefined
            ? 'list'
            : 'get';
    const resource = status === undefined ? 'rollouts' : 'rollouts/status';
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
    if (request.method !== 'PATCH')
      return this.send(response, 405, failure(405, 'MethodNotAllowed', `${request.method} is not supported here`));
    return this.patch(request, response, namespace ?? '', name ?? '', status === undefined ? 'main' : 'status');
  }

  private listReplicaSets(response: ServerResponse, namespace: string, url: URL): void {
    if (this.hooks.authorize?.('list', 'replicasets', namespace) === false) {
      this.send(
        response,
        403,
        failure(
          403,
          'Forbidden',
          `replicasets.apps is forbidden: cannot list resource "replicasets" in namespace "${namespace}"`,
        ),
      );
      return;
    }
    const [key, value] = (url.searchParams.get('labelSelector') ?? '').split('=');
    const items = this.store.list('ReplicaSet', namespace).filter((set) => {
      const labels = (set.metadata.labels ?? {}) as Record<string, string>;
      return key === undefined || key === '' || labels[key] === value;
    });
    this.send(response, 200, {
      kind: 'ReplicaSetList',
      apiVersion: 'apps/v1',
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
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const contentType = String(request.headers['content-type'] ?? '');
    const answer = (status: number, body: unknown, patchBody: Record<string, unknown> = {}) => {
      this.hooks.onPatch?.({ target, contentType, body: patchBody, status });
      this.send(response, status, body);
    };
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString() || '{}') as Record<string, unknown>;
    } catch {
      return answer(400, failure(400, 'BadRequest', 'the patch is not JSON'));
    }
    this.hooks.beforePatch?.();
    if (!contentType.startsWith('application/merge-patch+json')) {
      return answer(
        415,
        failure(415, 'UnsupportedMediaType', `only application/merge-patch+json is supported, got ${contentType}`),
        body,
      );
    }
    const current = this.store.get('Rollout', namespace, name);
    if (current === undefined)
      return answer(404, failure(404, 'NotFound', `rollouts.argoproj.io "${name}" not found`), body);
    const wanted = (body.metadata as Record<string, unknown> | undefined)?.resourceVersion;
    if (wanted !== undefined && wanted !== current.metadata.resourceVersion) {
      return answer(
        409,
        failure(
          409,
          'Conflict',
          `Operation cannot be fulfilled on rollouts.argoproj.io "${name}": the object has been modified; please apply your changes to the latest version and try again`,
        ),
        body,
      );
    }
    // The status subresource takes only status; the object itself ignores status, as with CRD subresources.
    const applied = target === 'status' ? { status: body.status } : { ...body, status: undefined, metadata: undefined };
    const merged = mergePatch(current, JSON.parse(JSON.stringify(applied))) as KubeObject;
    if (target === 'main' && JSON.stringify(merged.spec) !== JSON.stringify(current.spec)) {
      merged.metadata = { ...merged.metadata, generation: Number(current.metadata.generation ?? 1) + 1 };
    }
    answer(200, this.store.put(merged), body);
  }
}
