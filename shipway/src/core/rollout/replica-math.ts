/**
 * Argo Rollouts' replica arithmetic for a canary without traffic routing (v1.9.1
 * utils/replicaset/canary.go and replicaset.go), on plain numbers: a ReplicaSet is its
 * spec.replicas, its created (non-terminating) pods and its available pods.
 */
export interface ReplicaSetCounts {
  readonly replicas: number;
  readonly created: number;
  readonly available: number;
}

/** intstr.GetValueFromIntOrPercent, the deprecated form Argo calls: any string is a percentage. */
function scaled(value: number | string, total: number, roundUp: boolean): number {
  if (typeof value === 'number') return value;
  const percent = Number(value.replace(/%/g, ''));
  if (!Number.isFinite(percent)) return 0;
  const exact = (percent * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

/** resolveFenceposts with Argo's defaults (25 % each): both zero makes maxUnavailable 1. */
export function fenceposts(
  replicas: number,
  maxSurge: number | string = '25%',
  maxUnavailable: number | string = '25%',
): { surge: number; unavailable: number } {
  const surge = scaled(maxSurge, replicas, true);
  let unavailable = scaled(maxUnavailable, replicas, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable: Math.min(unavailable, replicas) };
}

const tied = (weight: number, total: number) => ((total * weight) / 100) % 1 === 0.5;
const delta = (weight: number, canary: number, total: number) => Math.abs((canary * 100) / total - weight);

/** approximateWeightedCanaryStableReplicaCounts: the closest split, ties rounding the canary up. */
export function approximateSplit(replicas: number, weight: number, surge: number): { canary: number; stable: number } {
  if (replicas === 0) return { canary: 0, stable: 0 };
  const ceil = Math.ceil((replicas * weight) / 100);
  const floor = Math.floor((replicas * weight) / 100);
  const zeroAllowed = weight === 100 || weight === 0 || (replicas === 1 && surge === 0);
  const options: { canary: number; total: number }[] = [];
  if (ceil < replicas || zeroAllowed) options.push({ canary: ceil, total: replicas });
  if (!tied(weight, replicas) && (floor !== 0 || zeroAllowed)) options.push({ canary: floor, total: replicas });
  if (surge > 0) {
    options.push({ canary: ceil, total: replicas + 1 });
    if (!tied(weight, replicas + 1) && (floor !== 0 || zeroAllowed))
      options.push({ canary: floor, total: replicas + 1 });
  }
  let best = options[0] ?? { canary: 0, total: replicas };
  for (const option of options.slice(1))
    if (delta(weight, option.canary, option.total) < delta(weight, best.canary, best.total)) best = option;
  return { canary: best.canary, stable: best.total - best.canary };
}

/** GetReplicasForScaleDown. */
function forScaleDown(rs: ReplicaSetCounts | undefined, ignoreAvailability: boolean): number {
  if (rs === undefined) return 0;
  if (rs.replicas < rs.available || ignoreAvailability) return rs.replicas;
  return rs.available;
}

export interface BasicCanaryInput {
  readonly replicas: number;
  readonly weight: number;
  readonly surge: number;
  readonly unavailable: number;
  readonly newRS: ReplicaSetCounts | undefined;
  /** Undefined when there is no stable ReplicaSet other than the new one (CheckStableRSExists). */
  readonly stableRS: ReplicaSetCounts | undefined;
  readonly others: readonly ReplicaSetCounts[];
}

/** adjustReplicaWithinLimits: keep the sum within maxSurge without breaking maxUnavailable. */
function withinLimits(
  drain: ReplicaSetCounts | undefined,
  adjust: ReplicaSetCounts | undefined,
  counts: { drain: number; adjust: number },
  limits: { maxAllowed: number; minAvailable: number },
): { drain: number; adjust: number } {
  let { drain: drainCount, adjust: adjustCount } = counts;
  let over = Math.max(0, adjustCount + drainCount - limits.maxAllowed);
  let available = drain === undefined ? 0 : Math.min(drain.available, drainCount);
  if (adjust !== undefined) {
    adjustCount -= over;
    available += Math.min(adjust.available, adjustCount);
    const lost = Math.max(0, adjust.available - adjustCount);
    adjustCount += Math.min(lost, Math.max(0, limits.minAvailable - available));
    over = Math.max(0, adjustCount + drainCount - limits.maxAllowed);
    drainCount -= over;
  }
  return { drain: drainCount, adjust: adjustCount };
}

/** CalculateReplicaCountsForBasicCanary: the next spec.replicas of the new and stable ReplicaSets. */
export function basicCanaryCounts(input: BasicCanaryInput): { newRS: number; stableRS: number } {
  const { replicas, surge, newRS, stableRS, others } = input;
  const desired = approximateSplit(replicas, input.weight, surge);
  const wantNew = stableRS === undefined ? replicas : desired.canary;
  const wantStable = stableRS === undefined ? 0 : desired.stable;
  let newCount = newRS?.replicas ?? 0;
  let stableCount = stableRS?.replicas ?? 0;
  const maxAllowed = replicas + surge;
  const all = [...others, ...(newRS === undefined ? [] : [newRS]), ...(stableRS === undefined ? [] : [stableRS])];
  let scaleUp = maxAllowed - all.reduce((sum, rs) => sum + rs.replicas, 0);
  if (stableRS !== undefined && stableRS.replicas < wantStable && scaleUp > 0) {
    stableCount = Math.min(wantStable, stableRS.replicas + scaleUp);
    scaleUp -= stableCount - stableRS.replicas;
  }
  if ((newRS?.replicas ?? 0) < wantNew && scaleUp > 0) newCount = Math.min(wantNew, (newRS?.replicas ?? 0) + scaleUp);
  if (others.some((rs) => rs.replicas > 0)) return { newRS: newCount, stableRS: stableCount };
  const minAvailable = replicas - input.unavailable;
  const increasing = newRS === undefined || wantNew >= newRS.replicas;
  const toScaleDown = forScaleDown(newRS, !increasing) + forScaleDown(stableRS, increasing);
  if (toScaleDown <= minAvailable) return { newRS: newCount, stableRS: stableCount };
  const scaleDown = toScaleDown - minAvailable;
  const limits = { maxAllowed, minAvailable };
  if (!increasing) {
    if (newRS !== undefined && newRS.replicas > wantNew) newCount = Math.max(wantNew, newRS.replicas - scaleDown);
    const adjusted = withinLimits(newRS, stableRS, { drain: newCount, adjust: stableCount }, limits);
    return { newRS: adjusted.drain, stableRS: adjusted.adjust };
  }
  if (stableRS !== undefined) {
    if (stableRS.replicas > wantStable) stableCount = Math.max(wantStable, stableRS.replicas - scaleDown);
    const adjusted = withinLimits(stableRS, newRS, { drain: stableCount, adjust: newCount }, limits);
    return { newRS: adjusted.adjust, stableRS: adjusted.drain };
  }
  return { newRS: newCount, stableRS: stableCount };
}

/** AtDesiredReplicaCountsForCanary (no traffic routing, no progress threshold). */
export function atDesiredCounts(input: BasicCanaryInput): boolean {
  const want = basicCanaryCounts(input);
  const { newRS, stableRS, others } = input;
  const newReady = newRS !== undefined && newRS.replicas === want.newRS && newRS.available === want.newRS;
  const stableCreated =
    stableRS === undefined
      ? want.stableRS === 0
      : stableRS.replicas === want.stableRS && stableRS.created === want.stableRS;
  return newReady && stableCreated && others.every((rs) => rs.available === 0);
}

/**
 * cleanupUnhealthyReplicas then scaleDownOldReplicaSetsForCanary: old ReplicaSets drop their
 * unavailable pods at once, then as many available ones as keep the Rollout at or above
 * replicas − maxUnavailable (`available` counts every ReplicaSet of the Rollout), newest first.
 */
export function scaleDownOld(old: readonly ReplicaSetCounts[], allAvailable: number, minAvailable: number): number[] {
  const counts = old.map((rs) => Math.min(rs.replicas, rs.available));
  let budget = allAvailable - minAvailable;
  for (let index = old.length - 1; index >= 0 && budget > 0; index -= 1) {
    const count = counts[index] ?? 0;
    const down = Math.min(count, budget);
    counts[index] = count - down;
    budget -= down;
  }
  return counts;
}
