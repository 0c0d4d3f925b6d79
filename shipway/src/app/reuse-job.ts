import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { GitCheckout } from '../adapters/git/git-checkout.js';
import { REUSE_VARIABLE, reusesTreeResult } from '../core/pipeline/job-intent.js';
import type { PlannedJob } from '../core/pipeline/plan-pipeline.js';
import { resultKey } from '../core/runner/result-key.js';
import { findResult, type KeptResult, keepResult } from './job-results.js';
import { type JobContext, type JobResult, jobVariables } from './run-job.js';

/** One pipeline's view of the kept results: where they are, and its commit's tree (read once). */
export interface ReuseStore {
  readonly results: string;
  readonly tree: () => Promise<string>;
}

export function reuseStore(results: string, workspace: string, sha: string): ReuseStore {
  let tree: Promise<string> | undefined;
  return {
    results,
    tree: () => {
      tree ??= new GitCheckout(workspace).revParse(`${sha}^{tree}`);
      return tree;
    },
  };
}

/** A job that declares SHIPWAY_REUSE: tree, its key, and the result kept under it if any. */
export interface Reusable {
  readonly store: ReuseStore;
  readonly key: string;
  readonly found: KeptResult | undefined;
}

/** undefined for a job that does not declare SHIPWAY_REUSE: tree (it always runs). */
export async function reusableResult(
  job: PlannedJob,
  context: JobContext,
  store: ReuseStore,
): Promise<Reusable | undefined> {
  if (!reusesTreeResult(job)) return undefined;
  const key = resultKey({
    tree: await store.tree(),
    job: job.name,
    definition: job.definition,
    variables: jobVariables(job, context),
    workspace: context.workspace,
    runtime: `node ${process.version} ${process.platform}-${process.arch}`,
  });
  return { store, key, found: findResult(store.results, key) };
}

/** The reused job's log says whose result it is and how to run it again; nothing runs. */
export function replayResult(found: KeptResult, context: JobContext): JobResult {
  const files = found.artifacts?.entries.length ?? 0;
  mkdirSync(dirname(context.logFile), { recursive: true });
  writeFileSync(
    context.logFile,
    [
      `Reusing the result of ${found.job} from pipeline #${found.pipeline} (${found.ref}, ${found.sha.slice(0, 12)}, ${found.at}):`,
      `the job declares ${REUSE_VARIABLE}: tree, and its tree, definition and variables are the same.`,
      'Run `shipway run --no-reuse` to run it again.',
      ...(found.artifacts === undefined ? [] : [`${files} artifact files and directories kept from it`]),
      'Job succeeded',
      '',
    ].join('\n'),
  );
  return { exitCode: 0, dotenv: found.dotenv, artifacts: found.artifacts };
}

/** Keeps a job's success for later pipelines; a failure to keep it only costs a rerun. */
export function keepReusable(reuse: Reusable, result: Omit<KeptResult, 'at'>): void {
  try {
    keepResult(reuse.store.results, reuse.key, result);
  } catch {
    // The next pipeline runs the job instead.
  }
}
