import { join } from 'node:path';
import { rollsBack } from '../core/pipeline/job-intent.js';
import type { PipelinePlan, PlannedJob } from '../core/pipeline/plan-pipeline.js';
import { type JobState, scheduleJobs } from '../core/pipeline/schedule-jobs.js';
import { artifactSources } from '../core/runner/artifact-sources.js';
import type { AppContext } from './context.js';
import type { StoredArtifacts } from './job-artifacts.js';
import { maskedOutside } from './outside-variables.js';
import type { recordPipeline } from './pipeline-record-file.js';
import type { JobRecord, PipelineRecord, RunPipelineOptions } from './pipeline-run-model.js';
import { keepReusable, type ReuseStore, replayResult, reusableResult, reuseStore } from './reuse-job.js';
import { hostEnvironment, type JobContext, runJob } from './run-job.js';

/** A job's log file name: parallel jobs are named `test 1/3`, and a name is no path. */
export function logName(job: string): string {
  return `${job.replace(/%/g, '%25').replace(/\//g, '%2F')}.log`;
}

export function statesOf(record: PipelineRecord, plan: PipelinePlan): Map<string, JobState> {
  const jobs = new Map(plan.stages.flatMap((stage) => stage.jobs).map((job) => [job.name, job]));
  return new Map(
    record.jobs.map((job) => [
      job.name,
      { status: job.status, allowFailure: jobs.get(job.name)?.allowFailure ?? false },
    ]),
  );
}

/** One created pipeline of `shipway run`: its clone at the pushed commit and its record. */
export interface PipelineExecution {
  readonly context: AppContext;
  readonly outside: ReadonlyMap<string, string>;
  readonly ref: string;
  readonly id: number;
  readonly dir: string;
  readonly workspace: string;
  readonly sha: string;
  /** The project's caches in the local stack: `jobs/` (cache:) and `results/` (SHIPWAY_REUSE). */
  readonly caches: string;
  /** The files shipway's promotions write, left out of SHIPWAY_REUSE's tree (app/reuse-job.ts). */
  readonly pinned: readonly string[];
  readonly recorder: ReturnType<typeof recordPipeline>;
}

/**
 * Runs a created pipeline's jobs one at a time in the order core/pipeline/schedule-jobs decides,
 * until none is ready: manual jobs wait for --approve, --yes or the person asked, and a job hands
 * its dotenv report and artifacts to the jobs that need it. Every change goes to the record.
 */
export async function executePipeline(
  plan: PipelinePlan,
  record: PipelineRecord,
  options: RunPipelineOptions,
  run: PipelineExecution,
): Promise<void> {
  await new Jobs(plan, record, options, run).runAll();
}

class Jobs {
  private readonly approved = new Set<string>();
  private readonly dotenv = new Map<string, ReadonlyMap<string, string>>();
  private readonly artifacts = new Map<string, StoredArtifacts>();
  private readonly hostEnv: ReturnType<typeof hostEnvironment>;
  private readonly masked: readonly string[];
  private jobId: number;
  /** Where SHIPWAY_REUSE results live, and the pipeline commit's tree (read once). */
  private readonly reuse: ReuseStore;

  constructor(
    private readonly plan: PipelinePlan,
    private readonly record: PipelineRecord,
    private readonly options: RunPipelineOptions,
    private readonly run: PipelineExecution,
  ) {
    this.hostEnv = hostEnvironment(run.context.env);
    this.masked = maskedOutside(run.context, run.outside);
    this.jobId = run.id * 100;
    this.reuse = reuseStore(join(run.caches, 'results'), run.workspace, run.sha, run.pinned);
  }

  async runAll(): Promise<void> {
    for (;;) {
      if (this.options.signal?.aborted) return;
      const { next, changed } = await this.settle();
      if (next !== undefined) await this.start(next);
      // A skip or an approval can make more jobs ready: look again before stopping.
      else if (!changed) return;
    }
  }

  /** Records skipped jobs and asks about manual ones; the next job to run, if any. */
  private async settle(): Promise<{ next: PlannedJob | undefined; changed: boolean }> {
    const decisions = scheduleJobs(this.plan, statesOf(this.record, this.plan), (job) => this.approves(job));
    let changed = false;
    for (const decision of decisions) {
      if (decision.action === 'skip') {
        this.set(decision.job, 'skipped', null);
        changed = true;
      } else if (decision.action === 'await-approval') {
        if (this.options.ask !== undefined && (await this.options.ask(decision.job, this.run.ref))) {
          this.approved.add(decision.job.name);
          changed = true;
        } else this.set(decision.job, 'manual', null);
      }
    }
    return { next: decisions.find((decision) => decision.action === 'run')?.job, changed };
  }

  private approves(job: PlannedJob): boolean {
    const { approve, yes } = this.options;
    return this.approved.has(job.name) || approve.includes(job.name) || (yes && !rollsBack(job));
  }

  private async start(job: PlannedJob): Promise<void> {
    const { run, options } = this;
    this.set(job, 'running', null);
    const inherited = new Map<string, string>();
    const sources = artifactSources(job, this.plan);
    for (const name of sources) for (const [key, value] of this.dotenv.get(name) ?? []) inherited.set(key, value);
    const started = Date.now();
    this.jobId += 1;
    const context: JobContext = {
      workspace: run.workspace,
      sha: run.sha,
      runDir: run.dir,
      cacheDir: join(run.caches, 'jobs'),
      logFile: join(run.dir, logName(job.name)),
      hostEnv: this.hostEnv,
      inherited,
      outside: run.outside,
      masked: this.masked,
      artifacts: sources.flatMap((name) => {
        const stored = this.artifacts.get(name);
        return stored === undefined ? [] : [[name, stored] as const];
      }),
      manual: job.when === 'manual',
      jobId: this.jobId,
      signal: options.signal,
    };
    const warn = (text: string) => run.context.progress(`${run.ref}: ${job.name}: ${text}`);
    const reuse = await reusableResult(job, context, this.reuse, { lookup: options.reuse !== false, warn });
    const result = reuse?.found !== undefined ? replayResult(reuse.found, context) : await runJob(job, context);
    this.dotenv.set(job.name, result.dotenv);
    if (result.artifacts !== undefined) this.artifacts.set(job.name, result.artifacts);
    const status = options.signal?.aborted ? 'canceled' : result.exitCode === 0 ? 'success' : 'failed';
    if (reuse !== undefined && reuse.found === undefined && status === 'success')
      keepReusable(reuse, { job: job.name, pipeline: run.id, ref: run.ref, sha: run.sha, ...result }, warn);
    const reused = reuse?.found === undefined ? undefined : { pipeline: reuse.found.pipeline, ref: reuse.found.ref };
    this.set(job, status, Date.now() - started, reused);
  }

  private set(job: PlannedJob, status: JobState['status'], ms: number | null, reused?: JobRecord['reused']): void {
    const entry = this.record.jobs.find((candidate) => candidate.name === job.name);
    if (entry === undefined) return;
    entry.status = status;
    entry.ms = ms;
    if (reused !== undefined) entry.reused = reused;
    this.run.recorder.job(job.name, status);
    const from = entry.reused === undefined ? {} : { reused: entry.reused };
    this.options.onEvent?.({ kind: 'job', ref: this.run.ref, job: job.name, status, ms, log: entry.log, ...from });
  }
}
