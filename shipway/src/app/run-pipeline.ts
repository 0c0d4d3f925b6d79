import { mkdirSync } from 'node:fs';
import { basename, join, posix, resolve } from 'node:path';
import { GitCheckout } from '../adapters/git/git-checkout.js';
import { remoteBranchHeads } from '../adapters/git/remote-branch-heads.js';
import { type PipelinePlan, planPipeline } from '../core/pipeline/plan-pipeline.js';
import { refSlug } from '../core/pipeline/predefined-variables.js';
import { pipelineStatus } from '../core/pipeline/schedule-jobs.js';
import { externalIncludes, loadPipeline } from './ci-config.js';
import { clusterAccess } from './cluster-access.js';
import type { AppContext } from './context.js';
import { type EnvironmentSummary, environmentSummary } from './environment-summary.js';
import { executePipeline, logName, statesOf } from './execute-pipeline.js';
import { loadShipwayConfig } from './load-config.js';
import { ensureLocalStack, type LocalStack } from './local-stack.js';
import { outsideVariables } from './outside-variables.js';
import { KUSTOMIZATION_FILES } from './overlay-branch.js';
import { recordPipeline } from './pipeline-record-file.js';
import type { PipelineRecord, RunPipelineOptions } from './pipeline-run-model.js';
import { pushHead } from './push-head.js';
import { repositoryFile, repositorySources } from './repository-sources.js';

export interface RunResult {
  readonly stack: LocalStack;
  /** Each environment once the cluster has synced its branch's last commit and settled. */
  readonly environments: readonly EnvironmentSummary[];
  readonly pipelines: readonly PipelineRecord[];
  readonly status: 'success' | 'failed' | 'blocked';
  readonly ms: number;
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
  // What promotions write on the environment branches: not part of a reusable job's tree.
  const pinned = config.environments.flatMap((env) => KUSTOMIZATION_FILES.map((name) => posix.join(env.overlay, name)));
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
        pinned,
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
  readonly pinned: readonly string[];
}

/** The pipeline's record before any job ran: every job `created`, its log in the pipeline's directory. */
function newRecord(run: OneRun, sha: string, plan: PipelinePlan): PipelineRecord {
  return {
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
  const record = newRecord(run, sha, plan);
  // pipeline.json: what the dashboard and scripts read, rewritten atomically on every change.
  const recorder = recordPipeline(run.dir, record, started);
  if (!plan.created) {
    recorder.finish();
    options.onEvent?.({ kind: 'no-pipeline', ref: run.ref, reason: plan.reason ?? 'not created' });
    return record;
  }
  recorder.write();
  options.onEvent?.({ kind: 'pipeline', ref: run.ref, id: run.id, plan });
  await executePipeline(plan, record, options, { ...run, workspace, sha, context, recorder, caches: run.stack.caches });
  record.status = pipelineStatus(plan, statesOf(record, plan));
  record.ms = Date.now() - started;
  recorder.finish();
  options.onEvent?.({ kind: 'pipeline-done', ref: run.ref, status: record.status, ms: record.ms });
  return record;
}
