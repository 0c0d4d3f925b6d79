import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GitCheckout } from '../adapters/git/git-checkout.js';
import { MaskedLog } from '../adapters/process/masked-log.js';
import { runShellScript } from '../adapters/process/run-shell-script.js';
import { type CiMap, type CiValue, isCiMap } from '../core/pipeline/ci-yaml.js';
import type { PlannedJob } from '../core/pipeline/plan-pipeline.js';
import { expandVariables } from '../core/pipeline/predefined-variables.js';
import { scriptLines } from '../core/pipeline/script-lines.js';
import { artifactSelection, cacheSpecs } from '../core/runner/file-selection.js';
import { imageNameOf, isToolImage } from '../core/runner/tool-image.js';
import { secretsIn } from '../core/secrets/secret-variables.js';
import { artifactDir, collectArtifacts, restoreArtifacts, type StoredArtifacts } from './job-artifacts.js';
import { type CacheRun, clearCachedPaths, restoreCaches, saveCaches } from './job-cache.js';
import { toolPrefix } from './tool-prefix.js';

export interface JobContext {
  /** The pipeline's checkout (a clone of the local GitLab remote at the pipeline's commit). */
  readonly workspace: string;
  readonly sha: string;
  /** The pipeline's directory: job logs, artifacts, the tool image's stand-in. */
  readonly runDir: string;
  /** Where caches persist between jobs and runs. */
  readonly cacheDir: string;
  readonly logFile: string;
  /** The host environment the job's shell starts from (PATH, HOME, proxies), without CI variables. */
  readonly hostEnv: Readonly<Record<string, string>>;
  /** Variables from jobs this one depends on (their dotenv reports). */
  readonly inherited: ReadonlyMap<string, string>;
  /** Group and project variables: they win over the file and over dotenv reports. */
  readonly outside: ReadonlyMap<string, string>;
  /** Values to mask in the log besides the secret variables': outside variables marked masked. */
  readonly masked: readonly string[];
  /** The artifacts of the jobs this one receives them from, in order. */
  readonly artifacts: readonly [string, StoredArtifacts][];
  readonly manual: boolean;
  readonly jobId: number;
  readonly signal?: AbortSignal | undefined;
}

export interface JobResult {
  readonly exitCode: number;
  readonly dotenv: ReadonlyMap<string, string>;
  readonly artifacts: StoredArtifacts | undefined;
}

/** The host environment minus anything that would make the job think it runs somewhere else. */
export function hostEnvironment(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter(
      (entry): entry is [string, string] =>
        entry[1] !== undefined &&
        !/^(CI|GITLAB_CI|CI_.*|GITLAB_.*|npm_.*|INIT_CWD|KUBECONFIG|KUBE_CONFIG)$/i.test(entry[0]),
    ),
  );
}

/** A dotenv report: KEY=VALUE lines, optional matching quotes around the value. */
export function parseDotenv(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (match === null) continue;
    const raw = (match[2] ?? '').trim();
    const quoted = /^(['"])(.*)\1$/.exec(raw);
    out.set(match[1] ?? '', quoted === null ? raw : (quoted[2] ?? ''));
  }
  return out;
}

function dotenvFiles(job: CiMap): string[] {
  const artifacts = isCiMap(job.artifacts) ? job.artifacts : {};
  const reports = isCiMap(artifacts.reports) ? artifacts.reports : {};
  const dotenv: CiValue | undefined = reports.dotenv;
  return (Array.isArray(dotenv) ? dotenv : [dotenv]).filter((file): file is string => typeof file === 'string');
}

/** The variables the job's shell gets: the planned ones, dotenv reports of its needs, outside ones, then the per-job ones. */
export function jobVariables(
  job: PlannedJob,
  context: Pick<JobContext, 'inherited' | 'outside' | 'workspace' | 'jobId' | 'manual'>,
): Map<string, string> {
  const variables = new Map(job.variables());
  for (const [name, value] of context.inherited) variables.set(name, value);
  for (const [name, value] of context.outside) variables.set(name, value);
  variables.set('CI_PROJECT_DIR', context.workspace);
  variables.set('CI_JOB_NAME', job.name);
  variables.set('CI_JOB_STAGE', job.stage);
  variables.set('CI_JOB_ID', String(context.jobId));
  if (context.manual) variables.set('CI_JOB_MANUAL', 'true');
  return variables;
}

/**
 * The job's shell environment. A job in shipway's tool image finds the running shipway first on
 * PATH and as npm's global package, as the image has it; any other job gets the host's PATH.
 */
function jobEnvironment(job: PlannedJob, context: JobContext, variables: Map<string, string>): Record<string, string> {
  const env: Record<string, string> = { ...context.hostEnv, ...Object.fromEntries(variables) };
  const image = imageNameOf(job.definition);
  if (image !== undefined && isToolImage(expandVariables(image, variables))) {
    const prefix = toolPrefix(join(context.runDir, 'tool'));
    env.PATH = [join(prefix, 'bin'), env.PATH].filter(Boolean).join(':');
    env.npm_config_prefix = prefix;
  }
  return env;
}

function readDotenv(job: PlannedJob, workspace: string): Map<string, string> {
  const dotenv = new Map<string, string>();
  for (const file of dotenvFiles(job.definition)) {
    const path = join(workspace, file);
    if (existsSync(path)) for (const [name, value] of parseDotenv(readFileSync(path, 'utf8'))) dotenv.set(name, value);
  }
  return dotenv;
}

/**
 * Runs one job the way a GitLab shell runner does: a clean checkout of the pipeline's commit,
 * caches and the artifacts of the jobs it depends on restored, the job's variables (file, rules,
 * dotenv reports of those jobs, then group and project variables), before_script + script in one
 * shell, after_script in another whose failure does not count, then its artifacts, dotenv report
 * and caches kept. The log never holds a secret variable's value or a masked one's.
 */
export async function runJob(job: PlannedJob, context: JobContext): Promise<JobResult> {
  const checkout = new GitCheckout(context.workspace);
  const variables = jobVariables(job, context);
  const env = jobEnvironment(job, context, variables);
  const log = new MaskedLog(context.logFile, [...secretsIn(env), ...context.masked]);
  const line = (text: string) => log.write(`${text}\n`);
  // GitLab Runner's get_sources step: a checkout that fails fails the job before its script.
  const fetched = await checkout.resetTo(context.sha).then(
    () => undefined,
    (error: Error) => error.message,
  );
  if (fetched !== undefined) {
    line(`ERROR: Job failed: getting the sources failed: ${fetched}`);
    await log.close();
    return { exitCode: 1, dotenv: new Map(), artifacts: undefined };
  }
  const specs = cacheSpecs(job.definition);
  let untracked: readonly string[] = [];
  const cache: CacheRun = {
    cacheDir: context.cacheDir,
    workspace: context.workspace,
    variables,
    log: line,
    untracked: () => untracked,
  };
  try {
    // A cache is an optimisation: GitLab Runner reports a failed extraction or upload and goes on.
    warnOnError(() => restoreCaches(specs, cache), line);
    restoreArtifacts(context.artifacts, cache);
    const main = [...scriptLines(job.definition, 'before_script'), ...scriptLines(job.definition, 'script')];
    const exitCode = await runShellScript({ cwd: context.workspace, env, lines: main, log, signal: context.signal });
    const after = scriptLines(job.definition, 'after_script');
    if (after.length > 0) {
      line('Running after_script');
      await runShellScript({ cwd: context.workspace, env, lines: after, log, signal: context.signal });
    }
    const succeeded = exitCode === 0;
    if (artifactSelection(job.definition)?.untracked === true || specs.some((spec) => spec.untracked))
      untracked = await checkout.untrackedFiles();
    const artifacts = collectArtifacts(
      job.definition,
      {
        workspace: context.workspace,
        expand: (text) => expandVariables(text, variables),
        untracked: () => untracked,
        log: line,
      },
      artifactDir(context.runDir, context.jobId),
      succeeded,
    );
    const dotenv = succeeded ? readDotenv(job, context.workspace) : new Map<string, string>();
    warnOnError(() => saveCaches(specs, cache, succeeded), line);
    clearCachedPaths(specs, cache);
    line(succeeded ? 'Job succeeded' : `ERROR: Job failed: exit code ${exitCode}`);
    return { exitCode, dotenv, artifacts };
  } finally {
    await log.close();
  }
}

function warnOnError(step: () => void, line: (text: string) => void): void {
  try {
    step();
  } catch (error) {
    line(`WARNING: cache: ${(error as Error).message}`);
  }
}
