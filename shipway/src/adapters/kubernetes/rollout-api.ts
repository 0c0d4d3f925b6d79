import {
  AppsV1Api,
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  Watch,
} from '@kubernetes/client-node';
import { ExternalError } from '../../core/errors.js';
import { type Rollout, rolloutSchema } from '../../core/rollout/rollout-object.js';

const GROUP = 'argoproj.io';
const VERSION = 'v1alpha1';
const PLURAL = 'rollouts';

/** Thrown for HTTP 409: the Rollout changed since the resourceVersion the patch carried. */
export class ConflictError extends Error {}

const NEEDS =
  'get, list, watch and patch on rollouts and rollouts/status (argoproj.io), and list on replicasets (apps)';

function mapError(error: unknown, what: string, namespace: string): Error {
  const code =
    typeof error === 'object' && error !== null && 'code' in error ? (error as { code: unknown }).code : undefined;
  if (code === 409) return new ConflictError(what);
  if (code === 403) {
    return new ExternalError(
      'KUBE_FORBIDDEN',
      `the Kubernetes API refused to ${what} in namespace ${namespace} (HTTP 403)`,
      {
        cause: error,
        hint: `grant the service account ${NEEDS} in ${namespace}`,
      },
    );
  }
  if (code === 401)
    return new ExternalError(
      'KUBE_UNAUTHORIZED',
      `the Kubernetes API did not accept the credentials to ${what} (HTTP 401)`,
      { cause: error, hint: "the kubeconfig's token or certificate is wrong or expired" },
    );
  if (code === 404)
    return new ExternalError('ROLLOUT_NOT_FOUND', `could not ${what} in namespace ${namespace}: not found`, {
      cause: error,
      hint: 'check environments[].rollout and namespace in shipway.yaml, and that Argo CD has synced it',
    });
  if (typeof code === 'number')
    return new ExternalError('KUBE_ERROR', `could not ${what} in namespace ${namespace}: HTTP ${code}`, {
      cause: error,
    });
  const network =
    (error as { cause?: { code?: string }; code?: string })?.cause?.code ??
    (typeof code === 'string' ? code : undefined) ??
    (error instanceof Error ? error.message : String(error));
  return new ExternalError('KUBE_UNREACHABLE', `cannot reach the Kubernetes API to ${what}: ${network}`, {
    cause: error,
    hint: 'check the cluster address in the kubeconfig and that the API server is up',
  });
}

/** Rollouts through the real @kubernetes/client-node: get, JSON merge patch, watch. */
export class RolloutApi {
  private readonly objects: CustomObjectsApi;
  private readonly apps: AppsV1Api;

  constructor(private readonly config: KubeConfig) {
    this.objects = config.makeApiClient(CustomObjectsApi);
    this.apps = config.makeApiClient(AppsV1Api);
  }

  async get(namespace: string, name: string): Promise<Rollout> {
    try {
      const raw: unknown = await this.objects.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace,
        plural: PLURAL,
        name,
      });
      return parseRollout(raw);
    } catch (error) {
      throw error instanceof ExternalError ? error : mapError(error, `get rollout ${name}`, namespace);
    }
  }

  /**
   * A JSON merge patch (RFC 7386). The content type is set explicitly: the client's default
   * for patches is JSON Patch. The body carries metadata.resourceVersion, so the API server
   * refuses it with 409 if the Rollout changed since it was read.
   */
  async patch(
    namespace: string,
    name: string,
    target: 'status' | 'main',
    body: Record<string, unknown>,
  ): Promise<Rollout> {
    const params = { group: GROUP, version: VERSION, namespace, plural: PLURAL, name, body };
    const options = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    try {
      const raw: unknown =
        target === 'status'
          ? await this.objects.patchNamespacedCustomObjectStatus(params, options)
          : await this.objects.patchNamespacedCustomObject(params, options);
      return parseRollout(raw);
    } catch (error) {
      throw mapError(error, `patch ${target === 'status' ? 'rollouts/status' : 'rollouts'} ${name}`, namespace);
    }
  }

  /** The image of the ReplicaSet with this pod-template hash (the stable revision's image). */
  async imageOfRevision(namespace: string, podTemplateHash: string): Promise<string | undefined> {
    try {
      const list = await this.apps.listNamespacedReplicaSet({
        namespace,
        labelSelector: `rollouts-pod-template-hash=${podTemplateHash}`,
      });
      return list.items[0]?.spec?.template?.spec?.containers?.[0]?.image;
    } catch (error) {
      throw mapError(error, 'list replicasets', namespace);
    }
  }

  /** Each revision's pod template labels, by pod-template hash (what a pod scrape labels series with). */
  async podTemplateLabels(namespace: string): Promise<Map<string, Record<string, string>>> {
    try {
      const list = await this.apps.listNamespacedReplicaSet({ namespace });
      const out = new Map<string, Record<string, string>>();
      for (const set of list.items) {
        const hash = set.metadata?.labels?.['rollouts-pod-template-hash'];
        if (hash !== undefined) out.set(hash, { ...(set.spec?.template?.metadata?.labels ?? {}) });
      }
      return out;
    } catch (error) {
      throw mapError(error, 'list replicasets', namespace);
    }
  }

  /** Watches one Rollout; calls `onChange` with each version; resolves when `signal` aborts. */
  async watch(
    namespace: string,
    name: string,
    onChange: (rollout: Rollout) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const path = `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}`;
    while (!signal.aborted) {
      const ended = new Promise<unknown>((resolve) => {
        void new Watch(this.config)
          .watch(
            path,
            { fieldSelector: `metadata.name=${name}` },
            (type, object: unknown) => {
              if (type === 'ADDED' || type === 'MODIFIED') onChange(parseRollout(object));
            },
            resolve,
          )
          .then((controller) => signal.addEventListener('abort', () => controller.abort(), { once: true }), resolve);
      });
      const error = await ended;
      if (signal.aborted) return;
      if (error !== null && error !== undefined && !(error instanceof Error && error.name === 'AbortError'))
        throw mapError(error, `watch rollout ${name}`, namespace);
    }
  }
}

function parseRollout(raw: unknown): Rollout {
  const parsed = rolloutSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ExternalError(
      'ROLLOUT_INVALID',
      `the API returned a Rollout shipway cannot read: ${parsed.error.issues[0]?.path.join('.') ?? ''} ${parsed.error.issues[0]?.message ?? ''}`,
    );
  }
  return parsed.data;
}
