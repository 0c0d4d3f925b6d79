import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { GitCheckout } from '../adapters/git/git-checkout.js';
import { remoteBranchHeads } from '../adapters/git/remote-branch-heads.js';
import { type PipelinePlan, type PlannedJob, planPipeline } from '../core/pipeline/plan-pipeline.js';
import { refSlug } from '../core/pipeline/predefined-variables.js';
import { type JobState, type PipelineStatus, pipelineStatus, scheduleJobs } from '../core/pipeline/schedule-jobs.js';
import { artifactSources } from '../core/runner/artifact-sources.js';
import { maskedValues } from '../core/runner/masked-variables.js';
import { externalIncludes, loadPipeline } from './ci-config.js';
import { clusterAccess } from './cluster-access.js';
import type { AppContext } from './context.js';
import { type EnvironmentSummary, environmentSummary } from './environment-summary.js';
import type { StoredArtifacts } from './job-artifacts.js';
import { loadShipwayConfig } from './load-config.js';
import { ensureLocalStack, type LocalStack } from './local-stack.js';
import { recordPipeline } from './pipeline-record-file.js';
import { pushHead } from './push-head.js';
import { repositoryFile, repositorySources } from './repository-sources.js';
import { hostEnvironment, parseDotenv, runJob } from './run-job.js';

export interface RunPipelineOptions {
  readonly file: string;
  /** Branches to push and run, in order; none = every environment branch in shipway.yaml. */
  readonly refs: readonly string[];
  /** Manual jobs to run when reached. */
  readonly approve: readonly string[];
  /** Run every manual job on the way forward (not the ones that roll back). */
  readonly yes: boolean;
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
    }
  | { readonly kind: 'pipeline-done'; readonly ref: string; readonly status: PipelineStatus; readonly ms: number };

export interface JobRecord {
  readonly name: string;
  readonly stage: string;
  status: JobState['status'];
  ms: number | null;
  readonly log: string;
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

export interface RunResult {
  readonly stack: LocalStack;
  /** Each environment once the cluster has synced its branch's last commit and settled. */
  readonly environments: readonly EnvironmentSummary[];
  readonly pipelines: readonly PipelineRecord[];
  readonly status: 'success' | 'failed' | 'blocked';
  readonly ms: number;
}

/** A job's log file name: parallel jobs are named `test 1/3`, and a name is no path. */
function logName(job: string): string {
  return `${job.replace(/%/g, '%25').replace(/\//g, '%2F')}.log`;
}

/** A job that undoes a release is never approved by --yes; name it with --approve. */
const ROLLS_BACK = /rollback|roll-back|abort/i;

/** Group and project variables for the local run: the stack's defaults, then .shipway/variables.env. */
function outsideVariables(context: AppContext, stack: LocalStack, app: string): Map<string, string> {
  const variables = new Map<string, string>([
    ['AWS_REPOSITORY', `${stack.registry}/${app}`],
    ['KUBECONFIG', stack.kubeconfig],
    // No Docker Hub on this machine: the image's Node runtime comes from the host.
    ['SHIPWAY_BASE_IMAGE', 'host'],
  ]);
  const file = resolve(context.cwd, '.shipway', 'variables.env');
  if (existsSync(file)) for (const [name, value] of parseDotenv(readFileSync(file, 'utf8'))) variables.set(name, value);
  return variables;
}

/** The values of .shipway/variables.env marked `# masked`: job logs never show them. */
function maskedOutside(context: AppContext, outside: ReadonlyMap<string, string>): string[] {
  const file = resolve(context.cwd, '.shipway', 'variables.env');
  return existsSync(file) ? maskedValues(readFileSync(file, 'utf8'), outside, file) : [];
}

/**
 * `shipway run`: the repository's .gitlab-ci.yml on this machine. For each ref (by default the
 * environment branches in order, the original's dev → stage → prod flow) it pushes HEAD to the
 * local GitLab remote, plans the branch pipeline as GitLab would, and runs its jobs in order,
 * with manual jobs waiting for approval and a failing job stopping the run.
 */
export async function runPipelines(context: AppContext, options: RunPipelineOptions): Promise<RunResult> {
  const started = Date.now();
  const config = await loadShipwayConfig(context);
  // The CI file as a path in the repository: each pipeline reads it from its own clone.
  const file = repositoryFile(context.cwd, options.file);
  const stack = await ensureLocalStack(context, config);
  const outside = outsideVariables(context, stack, config.app);
  const refs = options.refs.length > 0 ? options.refs : config.environments.map((env) => env.branch);
  const runsDir = resolve(context.cwd, '.shipway', 'runs');
  const pipelines: PipelineRecord[] = [];
  let id = Date.now() % 100_000;
  for (const ref of refs) {
    id += 1;
    const record = await runOne(
      context,
      { ...options, file },
      {
        stack,
        outside,
        ref,
        id,
        dir: join(runsDir, `${id}-${refSlug(ref)}`),
      },
    );
    pipelines.push(record);
    if (record.status === 'failed' || options.signal?.aborted) break;
  }
  const statuses = pipelines.map((pipeline) => pipeline.status);
  const status = statuses.includes('failed') ? 'failed' : statuses.includes('blocked') ? 'blocked' : 'success';
  const heads: Record<string, string> = {};
  const branches = await remoteBranchHeads(stack.remote);
  for (const env of config.environments) {
    const sha = branches.get(env.branch);
    if (sha !== undefined) heads[env.name] = sha;
  }
  const environments = await environmentSummary(clusterAccess(stack.kubeconfig), heads, undefined, config.app);
  return { stack, pipelines, status, environments, ms: Date.now() - started };
}

interface OneRun {
  readonly stack: LocalStack;
  readonly outside: ReadonlyMap<string, string>;
  readonly ref: string;
  readonly id: number;
  readonly dir: string;
}

async function runOne(context: AppContext, options: RunPipelineOptions, run: OneRun): Promise<PipelineRecord> {
  const started = Date.now();
  const workspace = join(run.dir, 'work');
  mkdirSync(run.dir, { recursive: true });
  const sha = await pushHead(context.cwd, run.stack.remote, workspace, run.ref);
  const message = await new GitCheckout(workspace).message('HEAD');
  const sources = repositorySources(workspace);
  const trigger = {
    branch: run.ref,
    source: 'push' as const,
    defaultBranch: 'main',
    sha,
    message,
    projectPath: `local/${basename(context.cwd)}`,
    projectDir: workspace,
    // The environment branches run here are protected on GitLab (docs/gitlab.md).
    protected: true,
    configPath: options.file,
  };
  // Includes from outside the repository: the checkout's include directory (not cloned: .shipway is ignored).
  const external = await externalIncludes(context, context.cwd, undefined);
  const { config, child } = loadPipeline(sources, options.file, { trigger, variables: run.outside, external });
  const plan = planPipeline({ config, trigger, variables: run.outside, files: sources.files, child });
  const record: PipelineRecord = {
    id: run.id,
    ref: run.ref,
    sha,
    created: plan.created,
    reason: plan.reason,
    status: 'not-created',
    jobs: plan.stages.flatMap((stage) =>
      stage.jobs.map((job) => ({
        name: job.name,
        stage: job.stage,
        status: 'created' as const,
        ms: null,
        log: join(run.dir, logName(job.name)),
      })),
    ),
    ms: 0,
  };
  // pipeline.json: what the dashboard and scripts read, rewritten atomically on every change.
  const recorder = recordPipeline(run.dir, record, started);
  if (!plan.created) {
    recorder.finish();
    options.onEvent?.({ kind: 'no-pipeline', ref: run.ref, reason: plan.reason ?? 'not created' });
    return record;
  }
  recorder.write();
  options.onEvent?.({ kind: 'pipeline', ref: run.ref, id: run.id, plan });
  await execute(plan, record, options, { ...run, workspace, sha, context, recorder });
  record.status = pipelineStatus(plan, statesOf(record, plan));
  record.ms = Date.now() - started;
  recorder.finish();
  options.onEvent?.({ kind: 'pipeline-done', ref: run.ref, status: record.status, ms: record.ms });
  return record;
}

function statesOf(record: PipelineRecord, plan: PipelinePlan): Map<string, JobState> {
  const jobs = new Map(plan.stages.flatMap((stage) => stage.jobs).map((job) => [job.name, job]));
  return new Map(
    record.jobs.map((job) => [
      job.name,
      { status: job.status, allowFailure: jobs.get(job.name)?.allowFailure ?? false },
    ]),
  );
}

async function execute(
  plan: PipelinePlan,
  record: PipelineRecord,
  options: RunPipelineOptions,
  run: OneRun & { workspace: string; sha: string; context: AppContext; recorder: ReturnType<typeof recordPipeline> },
): Promise<void> {
  const approved = new Set<string>();
  const dotenv = new Map<string, ReadonlyMap<string, string>>();
  const approves = (job: PlannedJob) =>
    approved.has(job.name) || options.approve.includes(job.name) || (options.yes && !ROLLS_BACK.test(job.name));
  const hostEnv = hostEnvironment(run.context.env);
  const artifacts = new Map<string, StoredArtifacts>();
  const masked = maskedOutside(run.context, run.outside);
  let jobId = run.id * 100;
  const set = (job: PlannedJob, status: JobState['status'], ms: number | null) => {
    const entry = record.jobs.find((candidate) => candidate.name === job.name);
    if (entry === undefined) return;
    entry.status = status;
    entry.ms = ms;
    run.recorder.job(job.name, status);
    options.onEvent?.({ kind: 'job', ref: run.ref, job: job.name, status, ms, log: entry.log });
  };
  for (;;) {
    if (options.signal?.aborted) return;
    const decisions = scheduleJobs(plan, statesOf(record, plan), approves);
    // A skip or an approval can make more jobs ready: look again before stopping.
    let changed = false;
    for (const decision of decisions) {
      if (decision.action === 'skip') {
        set(decision.job, 'skipped', null);
        changed = true;
      } else if (decision.action === 'await-approval') {
        if (options.ask !== undefined && (await options.ask(decision.job, run.ref))) {
          approved.add(decision.job.name);
          changed = true;
        } else set(decision.job, 'manual', null);
      }
    }
    const next = decisions.find((decision) => decision.action === 'run');
    if (next === undefined) {
      if (changed) continue;
      return;
    }
    const job = next.job;
    set(job, 'running', null);
    const inherited = new Map<string, string>();
    const sources = artifactSources(job, plan);
    for (const name of sources) for (const [key, value] of dotenv.get(name) ?? []) inherited.set(key, value);
    const startedJob = Date.now();
    jobId += 1;
    const result = await runJob(job, {
      workspace: run.workspace,
      sha: run.sha,
      runDir: run.dir,
      cacheDir: resolve(run.context.cwd, '.shipway', 'cache'),
      logFile: join(run.dir, logName(job.name)),
      hostEnv,
      inherited,
      outside: run.outside,
      masked,
      artifacts: sources.flatMap((name) => {
        const stored = artifacts.get(name);
        return stored === undefined ? [] : [[name, stored] as const];
      }),
      manual: job.when === 'manual',
      jobId,
      signal: options.signal,
    });
    dotenv.set(job.name, result.dotenv);
    if (result.artifacts !== undefined) artifacts.set(job.name, result.artifacts);
    set(
      job,
      options.signal?.aborted ? 'canceled' : result.exitCode === 0 ? 'success' : 'failed',
      Date.now() - startedJob,
    );
  }
}
