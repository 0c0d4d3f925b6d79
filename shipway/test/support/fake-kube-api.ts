import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedPatch {
  readonly target: 'status' | 'main';
  readonly contentType: string;
  readonly body: Record<string, unknown>;
  readonly status: number;
}

type Json = Record<string, unknown>;

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out: Json =
    typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Json) } : {};
  for (const [key, value] of Object.entries(patch as Json)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

/**
 * A fake Kubernetes API server at the HTTP level, for driving the real @kubernetes/client-node:
 * discovery, GET/LIST/WATCH and merge-PATCH of rollouts and rollouts/status with resourceVersion
 * checks (409), ReplicaSet listing by label, and 403s for verbs a test forbids.
 */
export class FakeKubeApi {
  readonly patches: RecordedPatch[] = [];
  readonly rollouts = new Map<string, Json>();
  readonly replicaSets: Json[] = [];
  readonly forbidden = new Set<string>();
  /** Runs once before the next PATCH is applied, e.g. to move the Rollout under the client. */
  beforeNextPatch: (() => void) | undefined;
  private version = 100;
  private readonly watchers = new Set<{ namespace: string; name: string | undefined; response: ServerResponse }>();
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        response.writeHead(500).end(String(error));
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const watcher of this.watchers) watcher.response.end();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  kubeconfig(token = 'test-token'): string {
    return [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{name: fake, cluster: {server: "' + this.url + '", insecure-skip-tls-verify: true}}]',
      `users: [{name: ci, user: {token: ${token}}}]`,
      'contexts: [{name: fake, context: {cluster: fake, user: ci}}]',
      'current-context: fake',
      '',
    ].join('\n');
  }

  put(rollout: Json): Json {
    const metadata = rollout.metadata as Json;
    const stored = {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Rollout',
      ...rollout,
      metadata: { ...metadata, resourceVersion: String(++this.version) },
    };
    this.rollouts.set(`${metadata.namespace}/${metadata.name}`, stored);
    this.notify(stored);
    return stored;
  }

  /** Changes a stored Rollout as a controller would, bumping its resourceVersion and notifying watchers. */
  update(namespace: string, name: string, change: (rollout: Json) => Json): Json {
    const current = this.rollouts.get(`${namespace}/${name}`);
    if (current === undefined) throw new Error(`no rollout ${namespace}/${name}`);
    return this.put(change(structuredClone(current)));
  }

  private notify(rollout: Json): void {
    const metadata = rollout.metadata as Json;
    for (const watcher of this.watchers) {
      if (watcher.namespace === metadata.namespace && (watcher.name === undefined || watcher.name === metadata.name)) {
        watcher.response.write(`${JSON.stringify({ type: 'MODIFIED', object: rollout })}\n`);
      }
    }
  }

  private send(response: ServerResponse, status: number, body: unknown): void {
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }

  private statusObject(code: number, reason: string, message: string): Json {
    return { kind: 'Status', apiVersion: 'v1', status: 'Failure', message, reason, code };
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://fake');
    const path = url.pathname;
    if (path === '/api') return this.send(response, 200, { kind: 'APIVersions', versions: ['v1'] });
    if (path === '/apis') {
      return this.send(response, 200, {
        kind: 'APIGroupList',
        apiVersion: 'v1',
        groups: [
          {
            name: 'argoproj.io',
            versions: [{ groupVersion: 'argoproj.io/v1alpha1', version: 'v1alpha1' }],
            preferredVersion: { groupVersion: 'argoproj.io/v1alpha1', version: 'v1alpha1' },
          },
        ],
      });
    }
    const replicaSets = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/replicasets$/.exec(path);
    if (replicaSets !== null) {
      if (this.forbidden.has('list replicasets'))
        return this.send(response, 403, this.statusObject(403, 'Forbidden', 'replicasets is forbidden'));
      const [key, value] = (url.searchParams.get('labelSelector') ?? '').split('=');
      const items = this.replicaSets.filter((set) => {
        const metadata = set.metadata as { namespace: string; labels?: Record<string, string> };
        return metadata.namespace === replicaSets[1] && (key === undefined || metadata.labels?.[key] === value);
      });
      return this.send(response, 200, { kind: 'ReplicaSetList', apiVersion: 'apps/v1', metadata: {}, items });
    }
    const match = /^\/apis\/argoproj\.io\/v1alpha1\/namespaces\/([^/]+)\/rollouts(?:\/([^/]+))?(\/status)?$/.exec(path);
    if (match === null) return this.send(response, 404, this.statusObject(404, 'NotFound', `no route ${path}`));
    const [, namespace = '', name, status] = match;
    const verb =
      request.method === 'PATCH'
        ? 'patch'
        : url.searchParams.get('watch') === 'true'
          ? 'watch'
          : name === undefined
            ? 'list'
            : 'get';
    const resource = status === undefined ? 'rollouts' : 'rollouts/status';
    if (this.forbidden.has(`${verb} ${resource}`)) {
      request.resume();
      return this.send(
        response,
        403,
        this.statusObject(
          403,
          'Forbidden',
          `${resource} "${name ?? ''}" is forbidden: User "ci" cannot ${verb} resource "${resource}"`,
        ),
      );
    }
    if (verb === 'watch') {
      const field = url.searchParams.get('fieldSelector')?.replace(/^metadata\.name=/, '');
      response.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      const watcher = { namespace, name: field, response };
      this.watchers.add(watcher);
      request.on('close', () => this.watchers.delete(watcher));
      for (const rollout of this.rollouts.values()) {
        const metadata = rollout.metadata as Json;
        if (metadata.namespace === namespace && (field === undefined || metadata.name === field))
          response.write(`${JSON.stringify({ type: 'ADDED', object: rollout })}\n`);
      }
      return;
    }
    if (verb === 'list')
      return this.send(response, 200, {
        kind: 'RolloutList',
        apiVersion: 'argoproj.io/v1alpha1',
        metadata: { resourceVersion: String(this.version) },
        items: [...this.rollouts.values()].filter((r) => (r.metadata as Json).namespace === namespace),
      });
    const key = `${namespace}/${name}`;
    if (verb === 'get') {
      const rollout = this.rollouts.get(key);
      return rollout === undefined
        ? this.send(response, 404, this.statusObject(404, 'NotFound', `rollouts.argoproj.io "${name}" not found`))
        : this.send(response, 200, rollout);
    }
    return this.patch(request, response, key, status === undefined ? 'main' : 'status');
  }

  private async patch(
    request: IncomingMessage,
    response: ServerResponse,
    key: string,
    target: 'status' | 'main',
  ): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString() || '{}') as Json;
    const contentType = String(request.headers['content-type'] ?? '');
    const hook = this.beforeNextPatch;
    this.beforeNextPatch = undefined;
    hook?.();
    const current = this.rollouts.get(key);
    const record = (status: number) => this.patches.push({ target, contentType, body, status });
    if (current === undefined) {
      record(404);
      return this.send(response, 404, this.statusObject(404, 'NotFound', 'not found'));
    }
    if (!contentType.startsWith('application/merge-patch+json')) {
      record(415);
      return this.send(
        response,
        415,
        this.statusObject(415, 'UnsupportedMediaType', `this fake only takes merge patches, got ${contentType}`),
      );
    }
    const wanted = (body.metadata as Json | undefined)?.resourceVersion;
    if (wanted !== undefined && wanted !== (current.metadata as Json).resourceVersion) {
      record(409);
      return this.send(
        response,
        409,
        this.statusObject(
          409,
          'Conflict',
          'the object has been modified; please apply your changes to the latest version and try again',
        ),
      );
    }
    // The status subresource takes only status; the main resource ignores status (as the API server does with subresources).
    const applied = target === 'status' ? { status: body.status } : { ...body, status: undefined, metadata: undefined };
    const merged = mergePatch(current, JSON.parse(JSON.stringify(applied))) as Json;
    record(200);
    this.send(response, 200, this.put(merged));
  }
}
