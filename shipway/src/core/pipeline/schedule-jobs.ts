import type { PipelinePlan, PlannedJob } from './plan-pipeline.js';

export type JobStatus = 'created' | 'running' | 'success' | 'failed' | 'skipped' | 'manual' | 'canceled';

export interface JobState {
  readonly status: JobStatus;
  /** A failed job that may fail (allow_failure) does not fail the pipeline. */
  readonly allowFailure: boolean;
}

export type Decision =
  | { readonly job: PlannedJob; readonly action: 'run' }
  | { readonly job: PlannedJob; readonly action: 'skip'; readonly reason: string }
  | { readonly job: PlannedJob; readonly action: 'await-approval' };

export type PipelineStatus = 'running' | 'success' | 'failed' | 'blocked';

const FINISHED: readonly JobStatus[] = ['success', 'failed', 'skipped', 'canceled'];

/**
 * The jobs whose prerequisites are finished: all jobs of the earlier stages, or only the jobs in
 * `needs`. A manual job that may fail and was not run counts as finished (later stages go on);
 * a blocking manual job (allow_failure: false) holds everything after it, as on GitLab.
 */
function prerequisites(job: PlannedJob, plan: PipelinePlan): PlannedJob[] {
  if (job.needs === null) return earlierStageJobs(job, plan);
  return plan.stages.flatMap((stage) => stage.jobs).filter((other) => job.needs?.includes(other.name));
}

/** Every job of the stages before the job's own. */
export function earlierStageJobs(job: PlannedJob, plan: PipelinePlan): PlannedJob[] {
  const position = plan.stages.findIndex((stage) => stage.name === job.stage);
  return plan.stages.slice(0, Math.max(0, position)).flatMap((stage) => stage.jobs);
}

function finished(state: JobState | undefined, job: PlannedJob): boolean {
  if (state === undefined) return false;
  return FINISHED.includes(state.status) || (state.status === 'manual' && job.allowFailure);
}

/** What to do next with each job still `created`, given the others' states and the approvals. */
export function scheduleJobs(
  plan: PipelinePlan,
  states: ReadonlyMap<string, JobState>,
  approved: (job: PlannedJob) => boolean,
): Decision[] {
  const decisions: Decision[] = [];
  for (const job of plan.stages.flatMap((stage) => stage.jobs)) {
    const state = states.get(job.name);
    if (state !== undefined && state.status !== 'created' && !(state.status === 'manual' && approved(job))) continue;
    const before = prerequisites(job, plan);
    if (!before.every((other) => finished(states.get(other.name), other))) continue;
    // A failure before it, or (with needs) a needed job that was itself skipped, as GitLab skips
    // the jobs that need a job that never ran.
    const failed = before.some((other) => {
      const otherState = states.get(other.name);
      if (otherState?.status === 'failed' && !otherState.allowFailure) return true;
      return job.needs !== null && otherState?.status === 'skipped';
    });
    if (job.when === 'on_failure' ? !failed : job.when !== 'always' && failed) {
      decisions.push({
        job,
        action: 'skip',
        reason: job.when === 'on_failure' ? 'nothing failed before it' : 'a job before it failed',
      });
      continue;
    }
    if (job.when === 'manual' && !approved(job)) {
      if (state?.status !== 'manual') decisions.push({ job, action: 'await-approval' });
      continue;
    }
    decisions.push({ job, action: 'run' });
  }
  return decisions;
}

/** The pipeline's status once nothing more can run. */
export function pipelineStatus(plan: PipelinePlan, states: ReadonlyMap<string, JobState>): PipelineStatus {
  const jobs = plan.stages.flatMap((stage) => stage.jobs);
  if (jobs.some((job) => states.get(job.name)?.status === 'running')) return 'running';
  const failed = jobs.some((job) => {
    const state = states.get(job.name);
    return state?.status === 'failed' && !state.allowFailure;
  });
  if (failed) return 'failed';
  if (jobs.some((job) => states.get(job.name)?.status === 'manual' && !job.allowFailure)) return 'blocked';
  return 'success';
}
