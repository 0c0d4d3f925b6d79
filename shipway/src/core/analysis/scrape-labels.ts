import type { Exposition } from './parse-exposition.js';
import { type Labels, labelsKey, type MemorySeriesStore } from './series-store.js';

/** What a Prometheus Kubernetes pod scrape knows of the pod it scrapes. */
export interface PodTarget {
  readonly namespace: string;
  readonly pod: string;
  /** host:port scraped. */
  readonly address: string;
  /** The pod template's labels, e.g. rollouts-pod-template-hash. */
  readonly podLabels: Readonly<Record<string, string>>;
}

export const POD_JOB = 'kubernetes-pods';

/** Prometheus' strutil.SanitizeLabelName: anything outside [a-zA-Z0-9_] becomes _. */
export function sanitizeLabelName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, '_');
}

/**
 * Target labels as the usual `kubernetes-pods` scrape job gives them (the prometheus-community
 * chart's relabelling of kubernetes_sd `role: pod`, discovery/kubernetes/pod.go): each pod label
 * under its sanitized name (`rollouts-pod-template-hash` → `rollouts_pod_template_hash`),
 * `namespace`, `pod`, `instance` (the address) and `job`.
 */
export function podTargetLabels(target: PodTarget): Labels {
  const labels: Record<string, string> = {};
  for (const [name, value] of Object.entries(target.podLabels)) labels[sanitizeLabelName(name)] = value;
  return { ...labels, namespace: target.namespace, pod: target.pod, instance: target.address, job: POD_JOB };
}

/** honor_labels: false — a scraped label that clashes with a target label is kept as exported_<name>. */
export function mergeTargetLabels(scraped: Labels, target: Labels): Labels {
  const out: Record<string, string> = { ...scraped };
  for (const [name, value] of Object.entries(target)) {
    if (name in out) {
      let exported = `exported_${name}`;
      while (exported in out) exported = `exported_${exported}`;
      out[exported] = out[name] ?? '';
    }
    out[name] = value;
  }
  return out;
}

/**
 * Stores one scrape of a target at `now` and returns the series it held (by key). Series seen
 * last time but not now get a staleness marker, and a failed scrape (`exposition` undefined)
 * marks all of them stale, as Prometheus' scrape loop does; `up` records whether it answered.
 * Samples with their own timestamp keep it (honor_timestamps) and are not marked stale.
 */
export function recordScrape(
  store: MemorySeriesStore,
  target: Labels,
  exposition: Exposition | undefined,
  now: number,
  previous: ReadonlyMap<string, Labels>,
): Map<string, Labels> {
  const current = new Map<string, Labels>();
  for (const sample of exposition?.samples ?? []) {
    const labels = mergeTargetLabels(sample.labels, target);
    store.append(labels, sample.timestampMs ?? now, sample.value);
    if (sample.timestampMs === undefined) current.set(labelsKey(labels), labels);
  }
  markStale(store, previous, current, now);
  store.append({ ...target, __name__: 'up' }, now, exposition === undefined ? 0 : 1);
  return current;
}

/** Staleness markers for the series a target no longer exposes (all of them, when it is gone). */
export function markStale(
  store: MemorySeriesStore,
  previous: ReadonlyMap<string, Labels>,
  current: ReadonlyMap<string, Labels>,
  now: number,
): void {
  for (const [key, labels] of previous) if (!current.has(key)) store.append(labels, now, Number.NaN, true);
}
