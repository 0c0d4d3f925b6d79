import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { GitCheckout } from '../adapters/git/git-checkout.js';
import { UsageError } from '../core/errors.js';
import type { CiMap } from '../core/pipeline/ci-yaml.js';
import { type CiConfig, readMainFile } from '../core/pipeline/load-ci-config.js';
import { type PipelinePlan, planPipeline } from '../core/pipeline/plan-pipeline.js';
import { PIPELINE_SOURCES, type PipelineSource, type PipelineTrigger } from '../core/pipeline/predefined-variables.js';
import { externalIncludes, loadPipeline } from './ci-config.js';
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
  /** CI_COMMIT_REF_PROTECTED; default: the default branch and shipway.yaml's environment branches are. */
  readonly protected?: boolean | undefined;
  /** The include directory (default .shipway/includes). */
  readonly includeDir?: string | undefined;
  /** The pipeline's inputs, for a main file with a spec:inputs header. */
  readonly inputs?: CiMap | undefined;
  /** The GitLab server (CI_SERVER_URL; default the environment's CI_SERVER_URL, else https://gitlab.com). */
  readonly server?: string | undefined;
}

export interface PlanCiResult {
  readonly plan: PipelinePlan;
  readonly config: CiConfig;
  readonly trigger: PipelineTrigger;
}

/**
 * The branches shipway.yaml deploys from, when the file exists: GitLab projects protect their
 * environment branches (docs/gitlab.md), so their pipelines see CI_COMMIT_REF_PROTECTED=true.
 */
async function environmentBranches(context: AppContext): Promise<string[]> {
  // Loaded only when the file is there: its schema (zod, yaml) costs a tenth of a large plan.
  if (!existsSync(resolve(context.cwd, 'shipway.yaml'))) return [];
  const { loadShipwayConfig } = await import('./load-config.js');
  return (await loadShipwayConfig(context)).environments.map((env) => env.branch);
}

/** The commit, its message and the default branch, from Git when the directory is a repository. */
async function gitFacts(cwd: string): Promise<{ sha: string; message: string; defaultBranch: string | undefined }> {
  const checkout = new GitCheckout(cwd);
  const [last, defaultBranch] = await Promise.all([checkout.lastCommit(), checkout.originDefaultBranch()]);
  if (last === undefined) return { sha: '0'.repeat(40), message: '', defaultBranch: undefined };
  return { ...last, defaultBranch };
}

export async function currentBranch(cwd: string): Promise<string | undefined> {
  return new GitCheckout(cwd).currentBranch();
}

export async function triggerFor(context: AppContext, options: PlanCiOptions): Promise<PipelineTrigger> {
  const source = (options.source ?? 'push') as PipelineSource;
  if (!PIPELINE_SOURCES.includes(source))
    throw new UsageError('USAGE', `unknown pipeline source ${options.source}`, {
      hint: `use one of ${PIPELINE_SOURCES.join(', ')}`,
    });
  if (options.ref !== undefined && options.tag !== undefined)
    throw new UsageError('USAGE', 'give --ref or --tag, not both', {
      hint: 'a pipeline runs for one branch or one tag',
    });
  if (options.tag !== undefined && source === 'merge_request_event')
    throw new UsageError('USAGE', 'a merge request pipeline runs for a branch, not a tag', {
      hint: 'use --ref <source branch>',
    });
  const [facts, protectedBranches] = await Promise.all([
    gitFacts(context.cwd),
    options.protected === undefined ? environmentBranches(context) : Promise.resolve<string[]>([]),
  ]);
  const branch = options.tag === undefined ? (options.ref ?? (await currentBranch(context.cwd))) : undefined;
  if (branch === undefined && options.tag === undefined)
    throw new UsageError('USAGE', 'which ref? this directory has no current branch', {
      hint: 'pass --ref <branch> or --tag <tag>',
    });
  const defaultBranch = options.defaultBranch ?? facts.defaultBranch ?? 'main';
  return {
    branch,
    tag: options.tag,
    source,
    defaultBranch,
    protected:
      options.protected ?? (branch !== undefined && (branch === defaultBranch || protectedBranches.includes(branch))),
    serverUrl: options.server ?? context.env.CI_SERVER_URL,
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
  // Git answers while the main file is parsed; its includes depend on the ref.
  const pending = Promise.all([
    triggerFor(context, options),
    externalIncludes(context, context.cwd, options.includeDir),
  ]);
  pending.catch(() => {});
  const main = readMainFile(sources, file);
  const [facts, external] = await pending;
  const trigger = { ...facts, configPath: file };
  const variables = options.variables ?? new Map<string, string>();
  const { config, child } = loadPipeline(sources, main, {
    trigger: { ...trigger, configPath: file },
    variables,
    external,
    inputs: options.inputs,
  });
  const plan = planPipeline({ config, trigger, variables, files: sources.files, child });
  return { plan, config, trigger };
}

/** `KEY=VALUE` arguments as a map; a malformed one is a usage error. */
export function parseVariableArgs(entries: readonly string[]): Map<string, string> {
  const variables = new Map<string, string>();
  for (const entry of entries) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(entry);
    if (match === null)
      throw new UsageError('USAGE', `--var ${entry}: expected KEY=VALUE`, { hint: 'e.g. --var DEPLOY=true' });
    variables.set(match[1] ?? '', match[2] ?? '');
  }
  return variables;
}

/**
 * `name=value` pipeline inputs as a map: a value that reads as JSON (a number, true, false, a
 * list) has that type, as inputs given through the API do; anything else is a string.
 */
export function parseInputArgs(entries: readonly string[]): CiMap | undefined {
  if (entries.length === 0) return undefined;
  const inputs: CiMap = {};
  for (const entry of entries) {
    const match = /^([A-Za-z0-9_-]+)=(.*)$/s.exec(entry);
    if (match === null)
      throw new UsageError('USAGE', `--input ${entry}: expected name=value`, {
        hint: 'e.g. --input environment=staging',
      });
    inputs[match[1] ?? ''] = typedInput(match[2] ?? '');
  }
  return inputs;
}

function typedInput(text: string): CiMap[string] {
  if (!/^(-?\d|\[|true$|false$)/.test(text)) return text;
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'number' || typeof value === 'boolean') return value;
    if (Array.isArray(value) && value.every((item) => ['string', 'number', 'boolean'].includes(typeof item)))
      return value.filter((item): item is string | number | boolean => typeof item !== 'object');
  } catch {
    // Not JSON: the text as it is.
  }
  return text;
}
