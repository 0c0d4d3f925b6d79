import { AppsV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { ExternalError } from '../../core/errors.js';
import { getJson } from './get-json.js';

export interface RevisionPods {
  readonly revision: string;
  readonly ready: number;
  readonly total: number;
}

function codeOf(error: unknown): unknown {
  return typeof error === 'object' && error !== null && 'code' in error ? (error as { code: unknown }).code : undefined;
}

function failed(what: string, namespace: string, error: unknown): ExternalError {
  const code = codeOf(error);
  return new ExternalError(
    code === 403 ? 'KUBE_FORBIDDEN' : 'KUBE_ERROR',
    `could not ${what} in namespace ${namespace}${typeof code === 'number' ? ` (HTTP ${code})` : ''}`,
    { cause: error },
  );
}

/**
 * What the dashboard reads besides the Rollout itself, through the same @kubernetes/client-node
 * and kubeconfig as `shipway rollout`: AnalysisRuns (argoproj.io/v1alpha1) and, per revision,
 * the pods ready out of total (ReplicaSet status on a real cluster; the embedded cluster, whose
 * ReplicaSets carry no status, says it in /shipway/v1/status).
 */
export class ReleaseObjectsApi {
  private readonly objects: CustomObjectsApi;
  private readonly apps: AppsV1Api;

  constructor(private readonly config: KubeConfig) {
    this.objects = config.makeApiClient(CustomObjectsApi);
    this.apps = config.makeApiClient(AppsV1Api);
  }

  /** The namespace's AnalysisRuns; none when the API does not serve them (404: no such resource). */
  async analysisRuns(namespace: string): Promise<unknown[]> {
    try {
      const list = (await this.objects.listNamespacedCustomObject({
        group: 'argoproj.io',
        version: 'v1alpha1',
        namespace,
        plural: 'analysisruns',
      })) as { items?: unknown };
      return Array.isArray(list.items) ? list.items : [];
    } catch (error) {
      if (codeOf(error) === 404) return [];
      throw failed('list analysisruns', namespace, error);
    }
  }

  /** Pods ready/total per pod-template hash of the Rollout's ReplicaSets, or null when no ReplicaSet has a status. */
  async podsByReplicaSet(namespace: string, rollout: string): Promise<RevisionPods[] | null> {
    try {
      const list = await this.apps.listNamespacedReplicaSet({ namespace });
      const counts: RevisionPods[] = [];
      for (const set of list.items) {
        const hash = set.metadata?.labels?.['rollouts-pod-template-hash'];
        const owned =
          set.metadata?.ownerReferences?.some((owner) => owner.kind === 'Rollout' && owner.name === rollout) ??
          set.metadata?.name?.startsWith(`${rollout}-`) === true;
        if (hash === undefined || !owned || set.status === undefined) continue;
        const total = set.status.replicas ?? 0;
        if (total > 0) counts.push({ revision: hash, ready: set.status.readyReplicas ?? 0, total });
      }
      return counts.length === 0 && list.items.every((set) => set.status === undefined) ? null : counts;
    } catch (error) {
      throw failed('list replicasets', namespace, error);
    }
  }

  /** The embedded cluster's own view of pods per environment; null on any other cluster (no such endpoint). */
  async embeddedPods(): Promise<Map<string, RevisionPods[]> | null> {
    const answer = await getJson(this.config, '/shipway/v1/status', 5000).catch(() => undefined);
    if (answer?.status !== 200 || !Array.isArray(answer.body)) return null;
    const out = new Map<string, RevisionPods[]>();
    for (const state of answer.body as { environment?: unknown; pods?: unknown }[]) {
      if (typeof state.environment !== 'string' || !Array.isArray(state.pods)) continue;
      const byRevision = new Map<string, { ready: number; total: number }>();
      for (const pod of state.pods as { revision?: unknown; state?: unknown }[]) {
        const revision = String(pod.revision ?? '');
        const entry = byRevision.get(revision) ?? { ready: 0, total: 0 };
        entry.total += 1;
        if (pod.state === 'ready') entry.ready += 1;
        byRevision.set(revision, entry);
      }
      out.set(
        state.environment,
        [...byRevision].map(([revision, count]) => ({ revision, ...count })),
      );
    }
    return out;
  }
}
