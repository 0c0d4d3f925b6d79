import { ApiServer, type PatchRecord } from '../../src/local/cluster/api-server.js';
import { ObjectStore, toKubeObject } from '../../src/local/cluster/object-store.js';
import { createServingCertificate } from '../../src/local/cluster/serving-certificate.js';

export type RecordedPatch = PatchRecord;
type Json = Record<string, unknown>;

/**
 * A Kubernetes API server at the HTTP level for driving the real @kubernetes/client-node: the
 * embedded cluster's API server over an in-memory store, with what tests need on top: every PATCH
 * recorded, verbs forbidden as RBAC would, and a hook that moves the Rollout between a client's
 * GET and its PATCH. Like the embedded cluster it serves HTTPS and requires a bearer token; its
 * kubeconfig carries both the token and the certificate.
 */
export class FakeKubeApi {
  readonly patches: RecordedPatch[] = [];
  readonly forbidden = new Set<string>();
  beforeNextPatch: (() => void) | undefined;
  readonly store = new ObjectStore();
  readonly replicaSets = { push: (set: Json) => this.store.put(toKubeObject({ ...set, kind: 'ReplicaSet' })) };
  /** The bearer token the server requires; kubeconfig() writes it for the client. */
  readonly token = 'test-token';
  private readonly tls = createServingCertificate(new Date());
  private readonly server = new ApiServer(this.store, {
    token: this.token,
    tls: this.tls,
    hooks: {
      authorize: (verb, resource) => !this.forbidden.has(`${verb} ${resource}`),
      onPatch: (record) => this.patches.push(record),
      beforePatch: () => {
        const hook = this.beforeNextPatch;
        this.beforeNextPatch = undefined;
        hook?.();
      },
    },
  });
  url = '';

  async start(): Promise<void> {
    this.url = await this.server.listen(0);
  }

  stop(): Promise<void> {
    return this.server.close();
  }

  kubeconfig(token = this.token): string {
    return [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: fake, cluster: {server: "${this.url}", certificate-authority-data: ${Buffer.from(this.tls.cert).toString('base64')}}}]`,
      `users: [{name: ci, user: {token: ${token}}}]`,
      'contexts: [{name: fake, context: {cluster: fake, user: ci}}]',
      'current-context: fake',
      '',
    ].join('\n');
  }

  put(rollout: Json): Json {
    return this.store.put(toKubeObject({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', ...rollout }));
  }

  /** Changes a stored Rollout as a controller would: a new resourceVersion, and watchers told. */
  update(namespace: string, name: string, change: (rollout: Json) => Json): Json {
    const current = this.store.get('Rollout', namespace, name);
    if (current === undefined) throw new Error(`no rollout ${namespace}/${name}`);
    return this.store.put(toKubeObject(change(current)));
  }
}
