import { createHash } from 'node:crypto';

/**
 * Pod counts for a basic canary (no traffic router): the split follows pod counts, so the canary
 * gets its share of the replicas, at least one pod of each for weights 1–99 when there are two or
 * more replicas (as Argo Rollouts does for a canary without traffic routing).
 */
export function canarySplit(replicas: number, weight: number): { canary: number; stable: number } {
  if (weight <= 0) return { canary: 0, stable: replicas };
  if (weight >= 100) return { canary: replicas, stable: 0 };
  let canary = Math.ceil((replicas * weight) / 100);
  if (replicas >= 2) canary = Math.min(replicas - 1, Math.max(1, canary));
  return { canary, stable: replicas - canary };
}

/** A stable short hash of a pod template, like the rollouts-pod-template-hash label. */
export function podTemplateHash(template: unknown): string {
  return createHash('sha256').update(stableJson(template)).digest('hex').slice(0, 10);
}

/** JSON with object keys sorted, so equal values give equal text. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${stableJson((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Parses Kubernetes-style durations used in pause steps: `30s`, `5m`, `1h`, or a number of seconds. */
export function pauseSeconds(duration: string | number | undefined): number | undefined {
  if (duration === undefined) return undefined;
  if (typeof duration === 'number') return duration;
  const match = /^(\d+)(s|m|h)?$/.exec(duration);
  if (match === null) return undefined;
  return Number(match[1]) * ({ s: 1, m: 60, h: 3600 }[match[2] ?? 's'] ?? 1);
}
