import { z } from 'zod';

/**
 * The fields of an Argo Rollouts `Rollout` (argoproj.io/v1alpha1) that shipway reads. Parsed at
 * the edge; unknown fields pass through untouched.
 */
/** A RolloutAnalysis: a step's `analysis` or the background `strategy.canary.analysis`. */
const rolloutAnalysis = z.looseObject({
  templates: z
    .array(z.looseObject({ templateName: z.string().optional(), clusterScope: z.boolean().optional() }))
    .optional(),
  args: z
    .array(z.looseObject({ name: z.string(), value: z.string().optional(), valueFrom: z.looseObject({}).optional() }))
    .optional(),
  dryRun: z.array(z.looseObject({ metricName: z.string() })).optional(),
});

const intOrString = z.union([z.number(), z.string()]);

const step = z.looseObject({
  setWeight: z.number().optional(),
  pause: z.looseObject({ duration: z.union([z.string(), z.number()]).optional() }).optional(),
  analysis: rolloutAnalysis.optional(),
  experiment: z.unknown().optional(),
  setCanaryScale: z.unknown().optional(),
});

const condition = z.looseObject({
  type: z.string(),
  status: z.string().optional(),
  reason: z.string().optional(),
  message: z.string().optional(),
  lastUpdateTime: z.string().optional(),
});

const runStatus = z.looseObject({
  name: z.string().optional(),
  status: z.string().optional(),
  message: z.string().optional(),
});

export const rolloutSchema = z.looseObject({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  metadata: z.looseObject({
    name: z.string(),
    namespace: z.string().optional(),
    generation: z.number().optional(),
    resourceVersion: z.string().optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  }),
  spec: z.looseObject({
    replicas: z.number().optional(),
    paused: z.boolean().optional(),
    progressDeadlineSeconds: z.number().optional(),
    progressDeadlineAbort: z.boolean().optional(),
    restartAt: z.string().optional(),
    template: z
      .looseObject({
        spec: z
          .looseObject({
            containers: z.array(z.looseObject({ name: z.string(), image: z.string().optional() })).optional(),
          })
          .optional(),
      })
      .optional(),
    strategy: z
      .looseObject({
        canary: z
          .looseObject({
            steps: z.array(step).optional(),
            trafficRouting: z.unknown().optional(),
            maxSurge: intOrString.optional(),
            maxUnavailable: intOrString.optional(),
            analysis: rolloutAnalysis.extend({ startingStep: z.number().optional() }).optional(),
          })
          .optional(),
        blueGreen: z.looseObject({ postPromotionAnalysis: z.unknown().optional() }).optional(),
      })
      .optional(),
  }),
  status: z
    .looseObject({
      phase: z.string().optional(),
      message: z.string().optional(),
      observedGeneration: z.string().optional(),
      abort: z.boolean().optional(),
      abortedAt: z.string().optional(),
      promoteFull: z.boolean().optional(),
      controllerPause: z.boolean().optional(),
      pauseConditions: z
        .array(z.looseObject({ reason: z.string(), startTime: z.string().optional() }))
        .nullable()
        .optional(),
      currentStepIndex: z.number().optional(),
      currentPodHash: z.string().optional(),
      stableRS: z.string().optional(),
      restartedAt: z.string().optional(),
      replicas: z.number().optional(),
      updatedReplicas: z.number().optional(),
      readyReplicas: z.number().optional(),
      availableReplicas: z.number().optional(),
      conditions: z.array(condition).optional(),
      canary: z
        .looseObject({
          currentStepAnalysisRunStatus: runStatus.nullable().optional(),
          currentBackgroundAnalysisRunStatus: runStatus.nullable().optional(),
        })
        .optional(),
      blueGreen: z
        .looseObject({
          activeSelector: z.string().optional(),
          postPromotionAnalysisRunStatus: z.looseObject({ status: z.string().optional() }).nullable().optional(),
        })
        .optional(),
    })
    .optional(),
});

export type Rollout = z.infer<typeof rolloutSchema>;
export type RolloutStatus = NonNullable<Rollout['status']>;
export type RolloutAnalysis = z.infer<typeof rolloutAnalysis>;
export type CanaryStep = z.infer<typeof step>;

/** The current canary step and its index, as Argo Rollouts' GetCurrentCanaryStep computes them. */
export function currentCanaryStep(rollout: Rollout): { step: CanaryStep | undefined; index: number } | undefined {
  const steps = rollout.spec.strategy?.canary?.steps ?? [];
  if (rollout.spec.strategy?.canary === undefined || steps.length === 0) return undefined;
  const index = rollout.status?.currentStepIndex ?? 0;
  return { step: steps[index], index };
}
