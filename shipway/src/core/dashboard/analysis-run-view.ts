import { z } from 'zod';

/**
 * The fields of an Argo Rollouts AnalysisRun (argoproj.io/v1alpha1, analysis_types.go v1.9.1:
 * AnalysisRunStatus, MetricResult, Measurement) that the dashboard shows. Parsed at the edge;
 * anything else passes through untouched, and a malformed run is dropped, not fatal.
 */
const measurement = z.looseObject({
  phase: z.string().optional(),
  value: z.string().optional(),
  message: z.string().optional(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
});

const metricResult = z.looseObject({
  name: z.string(),
  phase: z.string().optional(),
  message: z.string().optional(),
  count: z.number().optional(),
  successful: z.number().optional(),
  failed: z.number().optional(),
  inconclusive: z.number().optional(),
  error: z.number().optional(),
  measurements: z.array(measurement).optional(),
});

const analysisRun = z.looseObject({
  metadata: z.looseObject({
    name: z.string(),
    creationTimestamp: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
    ownerReferences: z.array(z.looseObject({ kind: z.string().optional(), name: z.string().optional() })).optional(),
  }),
  status: z
    .looseObject({
      phase: z.string().optional(),
      message: z.string().optional(),
      startedAt: z.string().optional(),
      metricResults: z.array(metricResult).optional(),
    })
    .optional(),
});

export interface MeasurementView {
  readonly phase: string;
  readonly value: string | null;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
}

export interface MetricView {
  readonly name: string;
  readonly phase: string;
  readonly message: string | null;
  readonly successful: number;
  readonly failed: number;
  readonly inconclusive: number;
  readonly error: number;
  readonly measurements: readonly MeasurementView[];
}

export interface AnalysisRunView {
  readonly name: string;
  readonly phase: string;
  readonly message: string | null;
  /** The pod-template hash the run analysed (label `rollouts-pod-template-hash`). */
  readonly revision: string | null;
  readonly startedAt: string | null;
  readonly metrics: readonly MetricView[];
}

/** Measurements kept per metric: the newest ones (a background analysis can take thousands). */
const MAX_MEASUREMENTS = 20;

/** The AnalysisRuns of one Rollout (owner reference or name prefix), newest first; others are dropped. */
export function analysisRunViews(items: readonly unknown[], rolloutName: string): AnalysisRunView[] {
  const views: AnalysisRunView[] = [];
  for (const item of items) {
    const parsed = analysisRun.safeParse(item);
    if (!parsed.success) continue;
    const { metadata, status } = parsed.data;
    const owners = metadata.ownerReferences ?? [];
    const owned = owners.some((owner) => owner.kind === 'Rollout' && owner.name === rolloutName);
    if (!owned && !(owners.length === 0 && metadata.name.startsWith(`${rolloutName}-`))) continue;
    views.push({
      name: metadata.name,
      phase: status?.phase ?? 'Pending',
      message: status?.message ?? null,
      revision: metadata.labels?.['rollouts-pod-template-hash'] ?? null,
      startedAt: status?.startedAt ?? metadata.creationTimestamp ?? null,
      metrics: (status?.metricResults ?? []).map((metric) => ({
        name: metric.name,
        phase: metric.phase ?? 'Pending',
        message: metric.message ?? null,
        successful: metric.successful ?? 0,
        failed: metric.failed ?? 0,
        inconclusive: metric.inconclusive ?? 0,
        error: metric.error ?? 0,
        measurements: (metric.measurements ?? []).slice(-MAX_MEASUREMENTS).map((entry) => ({
          phase: entry.phase ?? 'Pending',
          value: entry.value ?? null,
          startedAt: entry.startedAt ?? null,
          finishedAt: entry.finishedAt ?? null,
        })),
      })),
    });
  }
  return views.sort((a, b) => Date.parse(b.startedAt ?? '') - Date.parse(a.startedAt ?? '') || 0);
}
