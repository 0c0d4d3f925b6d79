import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

type Json = Record<string, unknown>;

/** RFC 7386 JSON merge patch: objects merge, null deletes, anything else replaces. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out: Json = typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

async function bodyOf(request: IncomingMessage): Promise<Json> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Json;
}

/**
 * A Kubernetes API at the HTTP level whose Rollout CRD has no status subresource, as with Argo
 * Rollouts v0.9: PATCH …/rollouts/<name>/status answers 404, and a PATCH to the Rollout itself
 * changes spec and status together. Holds one Rollout; records every PATCH.
 */
export class LegacyRolloutApi {
  readonly patches: { path: string; status: number; body: Json }[] = [];
  url = '';
  private readonly server: Server;

  constructor(private rollout: Json) {
    this.server = createServer((request, response) => {
      void this.handle(request).then(({ status, body }) => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(body));
      });
    });
  }

  private async handle(request: IncomingMessage): Promise<{ status: number; body: unknown }> {
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    const name = (this.rollout.metadata as { name: string }).name;
    const base = `/apis/argoproj.io/v1alpha1/namespaces/hello-prod/rollouts/${name}`;
    if (path === '/apis/apps/v1/namespaces/hello-prod/replicasets') {
      return { status: 200, body: { apiVersion: 'apps/v1', kind: 'ReplicaSetList', metadata: {}, items: [] } };
    }
    const notFound = { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 };
    if (request.method === 'GET' && path === base) return { status: 200, body: this.rollout };
    if (request.method === 'PATCH' && (path === base || path === `${base}/status`)) {
      const body = await bodyOf(request);
      const status = path === base ? 200 : 404;
      this.patches.push({ path: path.slice(base.length) || '/', status, body });
      if (status === 404) return { status, body: notFound };
      const { metadata: _version, ...change } = body;
      this.rollout = mergePatch(this.rollout, change) as Json;
      return { status, body: this.rollout };
    }
    return { status: 404, body: notFound };
  }

  get current(): Json {
    return this.rollout;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  kubeconfig(): string {
    return [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: legacy, cluster: {server: "${this.url}", insecure-skip-tls-verify: true}}]`,
      'users: [{name: ci, user: {token: legacy-token}}]',
      'contexts: [{name: legacy, context: {cluster: legacy, user: ci}}]',
      'current-context: legacy',
      '',
    ].join('\n');
  }
}
