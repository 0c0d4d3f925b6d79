import { z } from 'zod';

const phase = z.enum(['Pending', 'Running', 'Successful', 'Failed', 'Error', 'Inconclusive']);

/** An AnalysisRun object as the embedded cluster stores it: what the controller reads back. */
export const analysisRunSchema = z.looseObject({
  kind: z.literal('AnalysisRun'),
  metadata: z.looseObject({
    name: z.string(),
    namespace: z.string(),
    resourceVersion: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
    ownerReferences: z.array(z.looseObject({ kind: z.string().optional(), name: z.string() })).optional(),
  }),
  status: z.looseObject({ phase: phase.optional(), message: z.string().optional() }).optional(),
});

export type AnalysisRunObject = z.infer<typeof analysisRunSchema>;
