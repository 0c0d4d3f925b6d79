import { z } from 'zod';

/**
 * The container fields of a pod template that the embedded cluster honours, parsed at the store
 * boundary. Other fields are audited by name (audit-pod-spec.ts) before anything runs.
 */
const keyRef = z.object({ name: z.string(), key: z.string(), optional: z.boolean().optional() });
const sourceRef = z.object({ name: z.string(), optional: z.boolean().optional() });

export const envVarSchema = z.object({
  name: z.string(),
  value: z.string().optional(),
  valueFrom: z
    .object({
      fieldRef: z.object({ fieldPath: z.string(), apiVersion: z.string().optional() }).optional(),
      configMapKeyRef: keyRef.optional(),
      secretKeyRef: keyRef.optional(),
      resourceFieldRef: z.unknown().optional(),
    })
    .optional(),
});

export const envFromSchema = z.object({
  prefix: z.string().optional(),
  configMapRef: sourceRef.optional(),
  secretRef: sourceRef.optional(),
});

const probeSchema = z.looseObject({
  httpGet: z
    .looseObject({ path: z.string().optional(), port: z.union([z.string(), z.number()]).optional() })
    .optional(),
  periodSeconds: z.number().optional(),
  failureThreshold: z.number().optional(),
});

export const containerSchema = z.looseObject({
  name: z.string(),
  image: z.string(),
  command: z.array(z.string()).optional(),
  args: z.array(z.string()).optional(),
  workingDir: z.string().optional(),
  env: z.array(envVarSchema).optional(),
  envFrom: z.array(envFromSchema).optional(),
  ports: z.array(z.looseObject({ name: z.string().optional(), containerPort: z.number() })).optional(),
  readinessProbe: probeSchema.optional(),
  livenessProbe: probeSchema.optional(),
});

export const podTemplateSchema = z.looseObject({
  metadata: z
    .looseObject({
      labels: z.record(z.string(), z.string()).optional(),
      annotations: z.record(z.string(), z.string()).optional(),
    })
    .optional(),
  spec: z.looseObject({
    containers: z.array(containerSchema),
    serviceAccountName: z.string().optional(),
    terminationGracePeriodSeconds: z.number().optional(),
  }),
});

export type EnvVar = z.infer<typeof envVarSchema>;
export type EnvFromSource = z.infer<typeof envFromSchema>;
export type Container = z.infer<typeof containerSchema>;
export type PodTemplate = z.infer<typeof podTemplateSchema>;
