import { stableJson } from '../../core/rollout/canary-math.js';
import type { RevisionState } from '../../core/rollout/reconcile.js';
import { PROGRESS_SINCE, type ReplicaSet, replicaSetSchema } from '../../core/rollout/replica-set-object.js';
import type { Rollout } from '../../core/rollout/rollout-object.js';
import { type ObjectStore, toKubeObject } from './object-store.js';
import type { PodRuntime } from './pod-runtime.js';

export interface Owner {
  readonly namespace: string;
  readonly name: string;
}

/** Comparable text of a record, without what the store sets (resourceVersion) or undefined fields. */
function canonical(value: { metadata: Record<string, unknown> }): string {
  const { resourceVersion: _set, ...metadata } = value.metadata;
  return stableJson(JSON.parse(JSON.stringify({ ...value, metadata })));
}

const ownerKey = (owner: Owner) => `${owner.namespace}/${owner.name}`;
const hashOf = (set: ReplicaSet) => set.metadata.labels?.['rollouts-pod-template-hash'] ?? '';

/** The Rollout's ReplicaSet records, oldest first (records of older shipway versions by name). */
export function replicaSetsOf(store: ObjectStore, owner: Owner): ReplicaSet[] {
  const named = new RegExp(`^${owner.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-[0-9a-f]{10}$`);
  return store
    .list('ReplicaSet', owner.namespace)
    .flatMap((object) => {
      const parsed = replicaSetSchema.safeParse(object);
      return parsed.success ? [parsed.data] : [];
    })
    .filter((set) => {
      const owners = set.metadata.ownerReferences ?? [];
      return owners.length > 0 ? owners.some((ref) => ref.name === owner.name) : named.test(set.metadata.name);
    })
    .sort((a, b) => Number(a.metadata.resourceVersion ?? 0) - Number(b.metadata.resourceVersion ?? 0))
    .sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? ''));
}

/** Each revision's replica count (as last set) and its pods as the runtime has them now. */
export function revisionStates(sets: readonly ReplicaSet[], pods: PodRuntime, owner: Owner): RevisionState[] {
  const live = pods.list(ownerKey(owner)).filter((pod) => pod.state !== 'terminating');
  return sets.map((set) => {
    const hash = hashOf(set);
    const mine = live.filter((pod) => pod.spec.revision === hash);
    const since = Date.parse(set.metadata.annotations?.[PROGRESS_SINCE] ?? '');
    return {
      hash,
      replicas: set.spec.replicas ?? mine.length,
      created: mine.length,
      available: mine.filter((pod) => pod.state === 'ready').length,
      progressSince: Number.isNaN(since) ? undefined : since,
    };
  });
}

/**
 * Records what reconcile decided for each revision: a new ReplicaSet (the Rollout's pod template,
 * owned by the Rollout), spec.replicas, the pod counts in status and, when the revision made
 * progress, the time in its progress annotation. Writes only what changed.
 */
export function recordReplicaSets(
  store: ObjectStore,
  rollout: Rollout & { metadata: Owner },
  decided: { replicas: ReadonlyMap<string, number>; progressed: string | undefined; now: number },
  states: readonly RevisionState[],
): void {
  const owner = rollout.metadata;
  for (const [hash, replicas] of decided.replicas) {
    const name = `${owner.name}-${hash}`;
    const stored = store.get('ReplicaSet', owner.namespace, name);
    const parsed = replicaSetSchema.safeParse(stored);
    const current = parsed.success ? parsed.data : undefined;
    const state = states.find((candidate) => candidate.hash === hash);
    const annotations = { ...(current?.metadata.annotations ?? {}) };
    if (decided.progressed === hash || current === undefined)
      annotations[PROGRESS_SINCE] = new Date(decided.now).toISOString();
    const next = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      ...current,
      metadata: {
        ...current?.metadata,
        name,
        namespace: owner.namespace,
        creationTimestamp: current?.metadata.creationTimestamp ?? new Date(decided.now).toISOString(),
        labels: { ...current?.metadata.labels, 'rollouts-pod-template-hash': hash },
        annotations,
        ownerReferences: [{ apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: owner.name, controller: true }],
      },
      spec: { ...current?.spec, replicas, template: current?.spec.template ?? rollout.spec.template },
      status: {
        replicas: state?.created ?? 0,
        readyReplicas: state?.available ?? 0,
        availableReplicas: state?.available ?? 0,
      },
    };
    if (stored === undefined || canonical(stored) !== canonical(next)) store.put(toKubeObject(next));
  }
}
