import { z } from 'zod';

/**
 * The embedded cluster's ReplicaSet record of one Rollout revision (apps/v1 ReplicaSet fields it
 * keeps): the pod template, the replica count the controller asked for, and the pod counts.
 * Parsed at the store boundary.
 */
export const replicaSetSchema = z.looseObject({
  apiVersion: z.string().optional(),
  kind: z.literal('ReplicaSet'),
  metadata: z.looseObject({
    name: z.string(),
    namespace: z.string(),
    creationTimestamp: z.string().optional(),
    resourceVersion: z.string().optional(),
    ownerReferences: z.array(z.looseObject({ kind: z.string().optional(), name: z.string() })).optional(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  }),
  spec: z.looseObject({ replicas: z.number().optional(), template: z.unknown() }),
  status: z
    .looseObject({
      replicas: z.number().optional(),
      readyReplicas: z.number().optional(),
      availableReplicas: z.number().optional(),
    })
    .optional(),
});

export type ReplicaSet = z.infer<typeof replicaSetSchema>;

/** The annotation that records when the revision last started to progress (see progressSince in reconcile). */
export const PROGRESS_SINCE = 'shipway.dev/progress-since';
