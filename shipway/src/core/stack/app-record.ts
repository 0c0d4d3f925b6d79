import { z } from 'zod';
import { environmentSchema, type ShipwayConfig } from '../config/shipway-config.js';

/**
 * One app the local stack's cluster follows: written by `shipway run` (and `shipway cluster up`
 * in a repository) as <state-dir>/apps/<key>.json, read by the running cluster, which picks new
 * and changed records up without a restart. It holds what an Argo CD Application holds: the
 * repository, and per environment its branch, overlay path and destination namespace.
 */
export const appRecordSchema = z.strictObject({
  version: z.literal(1),
  /** projectKey(): the file's name, the app's name and a hash of its project identity. */
  key: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be [a-z0-9-]'),
  app: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS label'),
  /** The Git remote the cluster follows: the project's GitLab stand-in, or its git.remote. */
  remote: z.string().min(1),
  /** The checkout it was registered from (for messages only). */
  checkout: z.string(),
  registeredAt: z.string(),
  environments: z
    .array(
      environmentSchema
        .pick({ name: true, branch: true, overlay: true, namespace: true })
        .extend({ rollout: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/) }),
    )
    .min(1),
});

export type AppRecord = z.infer<typeof appRecordSchema>;
export type FollowedEnvironment = AppRecord['environments'][number];

export function appRecordOf(
  config: ShipwayConfig,
  facts: { key: string; remote: string; checkout: string; registeredAt: string },
): AppRecord {
  return {
    version: 1,
    key: facts.key,
    app: config.app,
    remote: facts.remote,
    checkout: facts.checkout,
    registeredAt: facts.registeredAt,
    environments: config.environments.map((env) => ({
      name: env.name,
      branch: env.branch,
      overlay: env.overlay,
      namespace: env.namespace,
      rollout: env.rollout?.name ?? config.app,
    })),
  };
}

export interface Refusal {
  readonly key: string;
  readonly code: 'APP_NAME_TAKEN' | 'NAMESPACE_TAKEN';
  readonly reason: string;
  readonly hint: string;
}

export interface Admission {
  readonly admitted: readonly AppRecord[];
  readonly refused: readonly Refusal[];
}

function conflict(candidate: AppRecord, owner: AppRecord): Refusal | undefined {
  const hint = `one stack serves each app name and namespace once: rename app or the namespaces in ${candidate.checkout}/shipway.yaml, or remove ${owner.app}'s record (shipway cluster forget ${owner.app})`;
  if (owner.app === candidate.app)
    return {
      key: candidate.key,
      code: 'APP_NAME_TAKEN',
      reason: `app ${candidate.app} is already registered in the local stack by another project (${owner.checkout})`,
      hint,
    };
  for (const env of candidate.environments) {
    const taken = owner.environments.find((other) => other.namespace === env.namespace);
    if (taken !== undefined)
      return {
        key: candidate.key,
        code: 'NAMESPACE_TAKEN',
        // Argo CD's words for a destination outside an app's project: "namespace X is not permitted".
        reason: `namespace ${env.namespace} (environment ${env.name} of app ${candidate.app}) is not permitted: it is app ${owner.app}'s (environment ${taken.name})`,
        hint,
      };
  }
  return undefined;
}

/**
 * Which records the cluster follows. Apps already followed keep their names and namespaces
 * (`sticky`): a later app that wants one is refused, never the other way round, so registering
 * an app can not disturb another's pods. The rest go first come, first served.
 */
export function admitApps(records: readonly AppRecord[], sticky: ReadonlySet<string> = new Set()): Admission {
  const order = [...records].sort(
    (a, b) =>
      Number(sticky.has(b.key)) - Number(sticky.has(a.key)) ||
      a.registeredAt.localeCompare(b.registeredAt) ||
      a.key.localeCompare(b.key),
  );
  const admitted: AppRecord[] = [];
  const refused: Refusal[] = [];
  for (const record of order) {
    const refusal = admitted.map((owner) => conflict(record, owner)).find((found) => found !== undefined);
    if (refusal === undefined) admitted.push(record);
    else refused.push(refusal);
  }
  return { admitted, refused };
}

/** Whether `candidate` may replace its own record among `existing` (the others stay as they are). */
export function planRegistration(existing: readonly AppRecord[], candidate: AppRecord): Refusal | undefined {
  const others = existing.filter((record) => record.key !== candidate.key);
  const admission = admitApps([...others, candidate], new Set(others.map((record) => record.key)));
  return admission.refused.find((refusal) => refusal.key === candidate.key);
}
