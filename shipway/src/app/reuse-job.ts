import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
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

/**
 * `pinned`: the files shipway's promotions write (each environment's overlay kustomization). They
 * differ between environment branches by design (each pins its own image), so they are left out
 * of the tree a result is keyed on: the stage branch, dev's code merged with stage's own pins,
 * reuses dev's build. A job that reads them must not declare SHIPWAY_REUSE.
 */
export function reuseStore(results: string, workspace: string, sha: string, pinned: readonly string[]): ReuseStore {
  let tree: Promise<string> | undefined;
  const skip = new Set(pinned);
  const sourceTree = async () => {
    const listing = await new GitCheckout(workspace).treeListing(sha);
    const kept = listing.filter((line) => !skip.has(line.slice(line.indexOf('\t') + 1)));
    return createHash('sha256').update(kept.join('\0')).digest('hex');
  };
  return {
    results,
    tree: () => {
      tree ??= sourceTree();
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
    artifacts: artifactsDigest(context.artifacts),
  });
  return { store, key, found: findResult(store.results, key) };
}

/**
 * The artifacts a job receives are inputs too: a job that tests what another built must not
 * reuse its result when that build's output differs, though the tree is the same.
 */
function artifactsDigest(sources: JobContext['artifacts']): string {
  const hash = createHash('sha256');
  for (const [name, stored] of sources) {
    hash.update(`job ${JSON.stringify(name)}\n`);
    for (const entry of [...stored.entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
      hash.update(`${entry.type} ${JSON.stringify(entry.path)} `);
      if (entry.type === 'file')
        hash.update(
          createHash('sha256')
            .update(readFileSync(join(stored.dir, entry.path)))
            .digest('hex'),
        );
      else if (entry.type === 'symlink') hash.update(JSON.stringify(entry.target));
      hash.update('\n');
    }
  }
  return hash.digest('hex');
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
