import type { PipelinePlan, PlannedJob } from '../core/pipeline/plan-pipeline.js';
import type { JobState, PipelineStatus } from '../core/pipeline/schedule-jobs.js';

// The shapes `shipway run` shares between planning a ref's pipeline (run-pipeline.ts), running
// its jobs (execute-pipeline.ts) and showing it (cli/commands/run.ts), so none imports another.

export interface RunPipelineOptions {
  readonly file: string;
  /** Branches to push and run, in order; none = every environment branch in shipway.yaml. */
  readonly refs: readonly string[];
  /** Manual jobs to run when reached. */
  readonly approve: readonly string[];
  /** Run every manual job on the way forward (not the ones that roll back). */
  readonly yes: boolean;
  /** Reuse an earlier pipeline's result of a job that declares SHIPWAY_REUSE: tree (default true). */
  readonly reuse?: boolean | undefined;
  /** Asks a person whether to run a manual job (an interactive terminal); undefined = never ask. */
  readonly ask?: ((job: PlannedJob, ref: string) => Promise<boolean>) | undefined;
  readonly onEvent?: ((event: RunEvent) => void) | undefined;
  readonly signal?: AbortSignal | undefined;
}

export type RunEvent =
  | { readonly kind: 'pipeline'; readonly ref: string; readonly id: number; readonly plan: PipelinePlan }
  | { readonly kind: 'no-pipeline'; readonly ref: string; readonly reason: string }
  | {
      readonly kind: 'job';
      readonly ref: string;
      readonly job: string;
      readonly status: JobState['status'];
      readonly ms: number | null;
      readonly log: string;
      /** The earlier pipeline whose result this job reused. */
      readonly reused?: JobRecord['reused'];
    }
  | { readonly kind: 'pipeline-done'; readonly ref: string; readonly status: PipelineStatus; readonly ms: number };

export interface JobRecord {
  readonly name: string;
  readonly stage: string;
  status: JobState['status'];
  ms: number | null;
  readonly log: string;
  /** The earlier pipeline whose result this job reused (SHIPWAY_REUSE: tree), if it was. */
  reused?: { readonly pipeline: number; readonly ref: string } | undefined;
}

export interface PipelineRecord {
  readonly id: number;
  readonly ref: string;
  readonly sha: string;
  readonly created: boolean;
  readonly reason: string | null;
  status: PipelineStatus | 'not-created';
  readonly jobs: JobRecord[];
  ms: number;
}
