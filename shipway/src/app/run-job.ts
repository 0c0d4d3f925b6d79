import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { runCommand } from '../adapters/process/run-command.js';
import { runShellScript } from '../adapters/process/run-shell-script.js';
import { type CiMap, type CiValue, isCiMap } from '../core/pipeline/ci-yaml.js';
import type { PlannedJob } from '../core/pipeline/plan-pipeline.js';
import { expandVariables } from '../core/pipeline/predefined-variables.js';
import { scriptLines } from '../core/pipeline/script-lines.js';

export interface JobContext {
  /** The pipeline's checkout (a clone of the local GitLab remote at the pipeline's commit). */
  readonly workspace: string;
  readonly sha: string;
  /** Where caches persist between jobs and runs. */
  readonly cacheDir: string;
  readonly logFile: string;
  /** The host environment the job's shell starts from (PATH, HOME, proxies), without CI variables. */
  readonly hostEnv: Readonly<Record<string, string>>;
  /** Variables from jobs this one depends on (their dotenv reports). */
  readonly inherited: ReadonlyMap<string, string>;
  /** Group and project variables: they win over the file and over dotenv reports. */
  readonly outside: ReadonlyMap<string, string>;
  readonly manual: boolean;
  readonly jobId: number;
  readonly signal?: AbortSignal | undefined;
}

export interface JobResult {
  readonly exitCode: number;
  readonly dotenv: ReadonlyMap<string, string>;
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

function cacheEntries(job: CiMap): CiMap[] {
  const cache = job.cache;
  return (Array.isArray(cache) ? cache : [cache]).filter(isCiMap);
}

/** GitLab's cache key: a string (variables expanded), or a hash of `key:files` with an optional prefix. */
function cacheKey(entry: CiMap, workspace: string, variables: ReadonlyMap<string, string>): string {
  const key = entry.key;
  if (isCiMap(key) && Array.isArray(key.files)) {
    const hash = createHash('sha256');
    for (const file of key.files) {
      const path = join(workspace, String(file));
      hash.update(existsSync(path) ? readFileSync(path) : '');
    }
    const prefix = typeof key.prefix === 'string' ? `${expandVariables(key.prefix, variables)}-` : '';
    return `${prefix}${hash.digest('hex').slice(0, 16)}`;
  }
  return typeof key === 'string' ? expandVariables(key, variables) : 'default';
}

/**
 * Restores the job's caches: each cached path in the workspace points into the cache directory
 * for its key, so what the job writes there is kept for the next job and the next run.
 */
function linkCaches(job: PlannedJob, context: JobContext, variables: ReadonlyMap<string, string>): void {
  for (const entry of cacheEntries(job.definition)) {
    const key = cacheKey(entry, context.workspace, variables).replace(/[^A-Za-z0-9._-]/g, '_');
    const paths = Array.isArray(entry.paths) ? entry.paths : [];
    for (const path of paths) {
      const relative = String(path).replace(/\/+$/, '');
      const target = join(context.cacheDir, key, relative);
      const link = join(context.workspace, relative);
      mkdirSync(target, { recursive: true });
      mkdirSync(dirname(link), { recursive: true });
      if (!existsSync(link)) symlinkSync(target, link);
    }
  }
}

function dotenvFiles(job: CiMap): string[] {
  const artifacts = isCiMap(job.artifacts) ? job.artifacts : {};
  const reports = isCiMap(artifacts.reports) ? artifacts.reports : {};
  const dotenv: CiValue | undefined = reports.dotenv;
  return (Array.isArray(dotenv) ? dotenv : [dotenv]).filter((file): file is string => typeof file === 'string');
}

/**
 * Runs one job the way a GitLab shell runner does: a clean checkout of the pipeline's commit,
 * caches restored, the job's variables (file, rules, dotenv reports of the jobs it depends on,
 * then group and project variables), before_script + script in one shell, after_script in
 * another whose failure does not count, and the job's dotenv report read back.
 */
export async function runJob(job: PlannedJob, context: JobContext): Promise<JobResult> {
  const git = (...args: string[]) => runCommand('git', ['-C', context.workspace, ...args]);
  await git('checkout', '--quiet', '--force', context.sha);
  await git('clean', '--quiet', '-ffdx');
  const variables = new Map(job.variables());
  for (const [name, value] of context.inherited) variables.set(name, value);
  for (const [name, value] of context.outside) variables.set(name, value);
  variables.set('CI_PROJECT_DIR', context.workspace);
  variables.set('CI_JOB_NAME', job.name);
  variables.set('CI_JOB_STAGE', job.stage);
  variables.set('CI_JOB_ID', String(context.jobId));
  if (context.manual) variables.set('CI_JOB_MANUAL', 'true');
  linkCaches(job, context, variables);
  const env = { ...context.hostEnv, ...Object.fromEntries(variables) };
  const log = createWriteStream(context.logFile, { flags: 'a' });
  try {
    const main = [...scriptLines(job.definition, 'before_script'), ...scriptLines(job.definition, 'script')];
    const exitCode = await runShellScript({ cwd: context.workspace, env, lines: main, log, signal: context.signal });
    const after = scriptLines(job.definition, 'after_script');
    if (after.length > 0) {
      log.write('Running after_script\n');
      await runShellScript({ cwd: context.workspace, env, lines: after, log, signal: context.signal });
    }
    const dotenv = new Map<string, string>();
    if (exitCode === 0)
      for (const file of dotenvFiles(job.definition)) {
        const path = join(context.workspace, file);
        if (existsSync(path))
          for (const [name, value] of parseDotenv(readFileSync(path, 'utf8'))) dotenv.set(name, value);
      }
    log.write(exitCode === 0 ? 'Job succeeded\n' : `ERROR: Job failed: exit code ${exitCode}\n`);
    return { exitCode, dotenv };
  } finally {
    await new Promise((done) => log.end(done));
  }
}
