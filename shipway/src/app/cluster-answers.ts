import { z } from 'zod';
import type { AppRegistration, EnvironmentState } from '../local/cluster/embedded-cluster.js';

/**
 * The embedded cluster's own endpoints as a client reads them: /shipway/v1/status (each app's
 * environments: sync, rollout, pods) and /shipway/v1/apps (the app records, followed or refused).
 * Typed against the shapes the cluster serves (local/cluster/app-followers.ts), so the two cannot drift.
 */
const nullableString = z.string().nullable();

const rolloutViewSchema = z.object({
  name: z.string(),
  namespace: z.string(),
  phase: z.enum(['Healthy', 'Progressing', 'Paused', 'Degraded']),
  message: z.string(),
  step: z.object({ current: z.number(), total: z.number() }).nullable(),
  desiredWeight: z.number(),
  actualWeight: z.number(),
  aborted: z.boolean(),
  stable: z.object({ revision: nullableString, image: nullableString }),
  canary: z.object({ revision: nullableString, image: nullableString }),
  replicas: z.object({ desired: z.number(), updated: z.number(), available: z.number() }),
});

const environmentStateSchema: z.ZodType<EnvironmentState> = z.object({
  app: z.string(),
  environment: z.string(),
  namespace: z.string(),
  url: z.string(),
  sync: z.object({ revision: nullableString, error: nullableString, syncedAt: nullableString }).nullable(),
  rollout: rolloutViewSchema.nullable(),
  pods: z.array(
    z.object({
      name: z.string(),
      revision: z.string(),
      state: z.string(),
      restarts: z.number(),
      error: nullableString,
      pid: z.number().nullable(),
      port: z.number(),
    }),
  ),
});

const appRegistrationSchema: z.ZodType<AppRegistration> = z.object({
  app: z.string(),
  key: z.string(),
  remote: z.string(),
  checkout: z.string(),
  environments: z.array(z.string()),
  error: nullableString,
});

export const clusterStatusSchema = z.array(environmentStateSchema);
export const clusterAppsSchema = z.array(appRegistrationSchema);
