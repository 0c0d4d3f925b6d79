import type { ObjectStore } from './object-store.js';
import type { Pod, PodRuntime } from './pod-runtime.js';
import { podSpecFor } from './pod-spec-builder.js';
import type { Owner } from './replica-set-records.js';

/**
 * Which pods go first when a ReplicaSet scales down, in the spirit of the ReplicaSet
 * controller's getPodsToDelete ranking (pkg/controller/controller_utils.go ActivePods): pods
 * that never started or crashed, then unready ones, then ready ones; more restarts first;
 * newer first.
 */
function deletionOrder(pods: readonly Pod[]): Pod[] {
  const rank = (pod: Pod) => (pod.state === 'ready' ? 2 : pod.state === 'unready' ? 1 : 0);
  return pods
    .map((pod, index) => ({ pod, index }))
    .sort((a, b) => rank(a.pod) - rank(b.pod) || b.pod.restarts - a.pod.restarts || b.index - a.index)
    .map((entry) => entry.pod);
}

/**
 * The ReplicaSet controller's part: each revision gets exactly the pods its ReplicaSet asks
 * for. Returns the pods being started, so the caller can look again once they run.
 */
export function scalePods(
  store: ObjectStore,
  pods: PodRuntime,
  owner: Owner,
  replicas: ReadonlyMap<string, number>,
): Promise<Pod>[] {
  const live = pods.list(`${owner.namespace}/${owner.name}`).filter((pod) => pod.state !== 'terminating');
  const starting: Promise<Pod>[] = [];
  for (const revision of new Set([...replicas.keys(), ...live.map((pod) => pod.spec.revision)])) {
    const mine = live.filter((pod) => pod.spec.revision === revision);
    const wanted = replicas.get(revision) ?? 0;
    for (const pod of deletionOrder(mine).slice(0, Math.max(0, mine.length - wanted))) void pods.stop(pod);
    if (mine.length >= wanted) continue;
    const spec = podSpecFor(store, owner, revision);
    if (spec === undefined) continue;
    for (let i = mine.length; i < wanted; i += 1) starting.push(pods.start(spec));
  }
  return starting;
}
