import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { StoredArtifacts } from '../../src/app/job-artifacts.js';
import { repositorySources } from '../../src/app/repository-sources.js';
import { hostEnvironment, runJob } from '../../src/app/run-job.js';
import { loadCiConfig } from '../../src/core/pipeline/load-ci-config.js';
import { planPipeline } from '../../src/core/pipeline/plan-pipeline.js';
import { artifactSources } from '../../src/core/runner/artifact-sources.js';
import { git } from './git-fixture.js';

export interface JobRun {
  readonly name: string;
  readonly exitCode: number;
  readonly log: string;
}

export interface JobPipeline {
  readonly root: string;
  /** The checkout the jobs run in (a clone, as the runner's). */
  readonly workspace: string;
  readonly cacheDir: string;
  readonly runDir: string;
  /** Runs every job of the branch pipeline in stage order, the way `shipway run` hands files on. */
  run(options?: { outside?: Record<string, string>; masked?: string[] }): Promise<JobRun[]>;
  cleanup(): void;
}

/**
 * A project in a temp dir (its files committed), cloned into a workspace, with the jobs of its
 * `.gitlab-ci.yml` run by the runner's own runJob (no local stack): caches, artifacts, dotenv
 * reports, masking and PATH exactly as `shipway run` gives them.
 */
export function jobPipeline(files: Record<string, string>): JobPipeline {
  const root = mkdtempSync(join(tmpdir(), 'shipway-jobs-'));
  const project = join(root, 'project');
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(project, path)), { recursive: true });
    writeFileSync(join(project, path), text);
  }
  git(root, 'init', '--quiet', '--initial-branch=main', project);
  git(project, 'add', '-A');
  git(project, 'commit', '--quiet', '-m', 'initial');
  const workspace = join(root, 'runs', '1', 'work');
  git(root, 'clone', '--quiet', project, workspace);
  const sha = git(workspace, 'rev-parse', 'HEAD').trim();
  const cacheDir = join(root, 'cache');
  const runDir = join(root, 'runs', '1');
  let jobId = 100;
  const run: JobPipeline['run'] = async (options = {}) => {
    const sources = repositorySources(workspace);
    const plan = planPipeline({
      config: loadCiConfig(sources, '.gitlab-ci.yml'),
      trigger: {
        branch: 'main',
        source: 'push',
        defaultBranch: 'main',
        sha,
        message: 'initial',
        projectPath: 'local/project',
        projectDir: workspace,
      },
      files: sources.files,
    });
    if (!plan.created) throw new Error(`no pipeline: ${plan.reason} ${JSON.stringify(plan.errors)}`);
    const stored = new Map<string, StoredArtifacts>();
    const dotenv = new Map<string, ReadonlyMap<string, string>>();
    const results: JobRun[] = [];
    for (const job of plan.stages.flatMap((stage) => stage.jobs)) {
      const from = artifactSources(job, plan);
      const inherited = new Map<string, string>();
      for (const name of from) for (const [key, value] of dotenv.get(name) ?? []) inherited.set(key, value);
      jobId += 1;
      const logFile = join(runDir, `${job.name}.log`);
      const result = await runJob(job, {
        workspace,
        sha,
        runDir,
        cacheDir,
        logFile,
        hostEnv: hostEnvironment(process.env),
        inherited,
        outside: new Map(Object.entries(options.outside ?? {})),
        masked: options.masked ?? [],
        artifacts: from.flatMap((name) => {
          const kept = stored.get(name);
          return kept === undefined ? [] : [[name, kept] as const];
        }),
        manual: false,
        jobId,
      });
      dotenv.set(job.name, result.dotenv);
      if (result.artifacts !== undefined) stored.set(job.name, result.artifacts);
      results.push({ name: job.name, exitCode: result.exitCode, log: readFileSync(logFile, 'utf8') });
    }
    return results;
  };
  return { root, workspace, cacheDir, runDir, run, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}
