import { basename } from 'node:path';
import { runCommand } from '../adapters/process/run-command.js';
import { UsageError } from '../core/errors.js';
import { type CiConfig, loadCiConfig } from '../core/pipeline/load-ci-config.js';
import { type PipelinePlan, planPipeline } from '../core/pipeline/plan-pipeline.js';
import { PIPELINE_SOURCES, type PipelineSource, type PipelineTrigger } from '../core/pipeline/predefined-variables.js';
import type { AppContext } from './context.js';
import { inRepository, repositoryFile, repositorySources } from './repository-sources.js';

export interface PlanCiOptions {
  readonly file: string;
  readonly ref?: string | undefined;
  readonly tag?: string | undefined;
  readonly source?: string | undefined;
  readonly variables?: ReadonlyMap<string, string>;
  readonly targetBranch?: string | undefined;
  readonly defaultBranch?: string | undefined;
  readonly changed?: readonly string[] | undefined;
  readonly message?: string | undefined;
  readonly openMergeRequest?: boolean | undefined;
}

export interface PlanCiResult {
  readonly plan: PipelinePlan;
  readonly config: CiConfig;
  readonly trigger: PipelineTrigger;
}

/** The commit, its message and the default branch, from Git when the directory is a repository. */
async function gitFacts(cwd: string): Promise<{ sha: string; message: string; defaultBranch: string | undefined }> {
  const [log, head] = await Promise.all([
    runCommand('git', ['log', '-1', '--format=%H%n%B'], { cwd }).catch(() => undefined),
    runCommand('git', ['symbolic-ref', '--short', 'refs/remotes/origin/HEAD'], { cwd }).catch(() => undefined),
  ]);
  if (log === undefined || log.code !== 0) return { sha: '0'.repeat(40), message: '', defaultBranch: undefined };
  const [sha = '', ...message] = log.stdout.split('\n');
  const defaultBranch = head?.code === 0 ? head.stdout.trim().replace(/^origin\//, '') : undefined;
  return { sha, message: message.join('\n').trim(), defaultBranch };
}

async function currentBranch(cwd: string): Promise<string | undefined> {
  const result = await runCommand('git', ['branch', '--show-current'], { cwd }).catch(() => undefined);
  const branch = result?.stdout.trim();
  return branch === undefined || branch === '' ? undefined : branch;
}

export async function triggerFor(context: AppContext, options: PlanCiOptions): Promise<PipelineTrigger> {
  const source = (options.source ?? 'push') as PipelineSource;
  if (!PIPELINE_SOURCES.includes(source))
    throw new UsageError(`unknown pipeline source ${options.source}`, {
      hint: `use one of ${PIPELINE_SOURCES.join(', ')}`,
    });
  if (options.ref !== undefined && options.tag !== undefined)
    throw new UsageError('give --ref or --tag, not both', { hint: 'a pipeline runs for one branch or one tag' });
  if (options.tag !== undefined && source === 'merge_request_event')
    throw new UsageError('a merge request pipeline runs for a branch, not a tag', {
      hint: 'use --ref <source branch>',
    });
  const facts = await gitFacts(context.cwd);
  const branch = options.tag === undefined ? (options.ref ?? (await currentBranch(context.cwd))) : undefined;
  if (branch === undefined && options.tag === undefined)
    throw new UsageError('which ref? this directory has no current branch', {
      hint: 'pass --ref <branch> or --tag <tag>',
    });
  return {
    branch,
    tag: options.tag,
    source,
    defaultBranch: options.defaultBranch ?? facts.defaultBranch ?? 'main',
    sha: facts.sha,
    message: options.message ?? facts.message,
    projectPath: context.env.CI_PROJECT_PATH ?? `local/${basename(context.cwd)}`,
    projectDir: context.cwd,
    targetBranch: options.targetBranch,
    openMergeRequests: options.openMergeRequest,
    // Repository paths; one given absolute (or with ./) is taken relative to the repository.
    changedFiles: options.changed?.map((path) => inRepository(context.cwd, path) ?? path),
  };
}

/** `shipway plan`: the pipeline GitLab would create for a ref and source, computed offline. */
export async function planCi(context: AppContext, options: PlanCiOptions): Promise<PlanCiResult> {
  const sources = repositorySources(context.cwd);
  const file = repositoryFile(context.cwd, options.file);
  // Git answers while the config is parsed.
  const pending = triggerFor(context, options);
  pending.catch(() => {});
  const config = loadCiConfig(sources, file);
  const trigger = await pending;
  const plan = planPipeline({
    config,
    trigger,
    variables: options.variables ?? new Map(),
    files: sources.files,
  });
  return { plan, config, trigger };
}

/** `KEY=VALUE` arguments as a map; a malformed one is a usage error. */
export function parseVariableArgs(entries: readonly string[]): Map<string, string> {
  const variables = new Map<string, string>();
  for (const entry of entries) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(entry);
    if (match === null) throw new UsageError(`--var ${entry}: expected KEY=VALUE`, { hint: 'e.g. --var DEPLOY=true' });
    variables.set(match[1] ?? '', match[2] ?? '');
  }
  return variables;
}
