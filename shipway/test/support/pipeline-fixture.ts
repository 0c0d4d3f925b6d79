import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { AppContext } from '../../src/app/context.js';
import { executePipeline, logName } from '../../src/app/execute-pipeline.js';
import { recordPipeline } from '../../src/app/pipeline-record-file.js';
import type { PipelineRecord, RunEvent, RunPipelineOptions } from '../../src/app/pipeline-run-model.js';
import { repositorySources } from '../../src/app/repository-sources.js';
import { loadCiConfig } from '../../src/core/pipeline/load-ci-config.js';
import { planPipeline } from '../../src/core/pipeline/plan-pipeline.js';
import { git } from './git-fixture.js';

/** One branch pipeline of a local repository, run by `shipway run`'s job loop without the local stack. */
export interface FixturePipeline {
  /** Where `runs/<id>/` (the clone, logs, pipeline.json) go. */
  readonly root: string;
  readonly repository: string;
  readonly ref: string;
  /** The project's caches: `jobs/` and the SHIPWAY_REUSE `results/`. */
  readonly caches: string;
  readonly pinned?: readonly string[];
  /** Group and project variables: planned with and handed to the jobs, as `shipway run` does. */
  readonly outside?: Map<string, string>;
  /** The environment the jobs' shell starts from (default: this process's). */
  readonly env?: NodeJS.ProcessEnv;
  /** A commit or branch of the clone to run instead of its default branch. */
  readonly checkout?: string;
  /** Called on the clone before the pipeline runs. */
  readonly prepare?: (workspace: string) => void;
}

export interface FixtureRun {
  readonly record: PipelineRecord;
  readonly events: RunEvent[];
  /** The pipeline's directory: its job logs and pipeline.json. */
  readonly dir: string;
  readonly log: (job: string) => string;
}

let runs = 0;

/**
 * Clones `repository`, plans the `ref` pipeline as GitLab would (a push) and runs it with
 * app/execute-pipeline.ts: real shells, real git, real caches and artifacts.
 */
export async function executeFixture(
  pipeline: FixturePipeline,
  options: Partial<RunPipelineOptions> = {},
): Promise<FixtureRun> {
  runs += 1;
  const { ref } = pipeline;
  const dir = join(pipeline.root, 'runs', String(runs));
  const workspace = join(dir, 'work');
  git(pipeline.root, 'clone', '--quiet', pipeline.repository, workspace);
  if (pipeline.checkout !== undefined) git(workspace, 'checkout', '--quiet', pipeline.checkout);
  const sha = git(workspace, 'rev-parse', 'HEAD').trim();
  pipeline.prepare?.(workspace);
  const sources = repositorySources(workspace);
  const trigger = {
    ...{ branch: ref, source: 'push' as const, defaultBranch: 'main', sha, message: 'fixture' },
    ...{ projectPath: 'local/project', projectDir: workspace },
  };
  const outside = pipeline.outside ?? new Map<string, string>();
  const config = loadCiConfig(sources, '.gitlab-ci.yml');
  const plan = planPipeline({ config, trigger, files: sources.files, variables: outside });
  expect(plan.created).toBe(true);
  const record: PipelineRecord = {
    ...{ id: runs, ref, sha, created: true, reason: null, status: 'running', ms: 0 },
    jobs: plan.stages
      .flatMap((stage) => stage.jobs)
      .map((job) => ({
        name: job.name,
        stage: job.stage,
        status: 'created',
        ms: null,
        log: join(dir, logName(job.name)),
      })),
  };
  const events: RunEvent[] = [];
  const context: AppContext = { cwd: pipeline.repository, env: pipeline.env ?? process.env, progress: () => {} };
  await executePipeline(
    plan,
    record,
    { file: '.gitlab-ci.yml', refs: [ref], approve: [], yes: false, ...options, onEvent: (e) => events.push(e) },
    {
      ...{ context, outside, ref, caches: pipeline.caches, pinned: pipeline.pinned ?? [], id: runs },
      ...{ dir, workspace, sha, recorder: recordPipeline(dir, record, Date.now()) },
    },
  );
  return { record, events, dir, log: (job) => readFileSync(join(dir, logName(job)), 'utf8') };
}
