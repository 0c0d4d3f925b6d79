import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { placeTree } from '../adapters/files/place-tree.js';
import { GitCheckout } from '../adapters/git/git-checkout.js';
import { isCiMap } from '../core/pipeline/ci-yaml.js';
import { REUSE_VARIABLE } from '../core/pipeline/job-intent.js';
import type { PlannedJob } from '../core/pipeline/plan-pipeline.js';
import { resultKey } from '../core/runner/result-key.js';
import { parentsFirst } from '../core/runner/tree-entry.js';
import { SHIPWAY_VERSION } from '../version.js';
import { artifactDir, type StoredArtifacts } from './job-artifacts.js';
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

/** A job whose variables say SHIPWAY_REUSE: tree, its key, and the result kept under it if any. */
export interface Reusable {
  readonly store: ReuseStore;
  readonly key: string;
  readonly found: KeptResult | undefined;
}

/**
 * The host environment variables a job's tools read that change what they do: the programs on
 * PATH, Node's options, the locale and the time zone. The rest of the shell's environment
 * (HOME, TERM, SSH_AUTH_SOCK, …) is not part of the key; the help and the README say so.
 */
const HOST_KEYED = /^(PATH|LANG|LC_[A-Z]+|TZ|NODE_[A-Z_]+)$/;

/**
 * Whether the job may reuse a result, and which. The job's final variables decide (a rule's, or a
 * project variable `SHIPWAY_REUSE: ""`, overrides the job's own, as in GitLab). With `lookup`
 * false (--no-reuse) nothing is found, but the key is still computed, so the success replaces a
 * kept result. Anything that fails while computing the key only means the job runs.
 */
export async function reusableResult(
  job: PlannedJob,
  context: JobContext,
  store: ReuseStore,
  options: { lookup: boolean; warn: (text: string) => void },
): Promise<Reusable | undefined> {
  const variables = jobVariables(job, context);
  if (variables.get(REUSE_VARIABLE)?.trim() !== 'tree') return undefined;
  try {
    const definitionNames = isCiMap(job.definition.variables) ? Object.keys(job.definition.variables) : [];
    const host = Object.entries(context.hostEnv).filter(([name]) => HOST_KEYED.test(name));
    const key = resultKey({
      tree: await store.tree(),
      job: job.name,
      definition: job.definition,
      variables,
      declared: new Set([...definitionNames, ...context.inherited.keys(), ...context.outside.keys()]),
      workspace: context.workspace,
      runtime: `shipway ${SHIPWAY_VERSION} node ${process.version} ${process.platform}-${process.arch} ${JSON.stringify(host)}`,
      artifacts: artifactsDigest(context.artifacts),
    });
    return { store, key, found: options.lookup ? findResult(store.results, key) : undefined };
  } catch (error) {
    options.warn(`${REUSE_VARIABLE}: no result key (${(error as Error).message}); the job runs`);
    return undefined;
  }
}

/** A file's SHA-256, read in chunks (an artifact may be larger than one Buffer). */
function fileDigest(path: string): string {
  const hash = createHash('sha256');
  const chunk = Buffer.alloc(1024 * 1024);
  const fd = openSync(path, 'r');
  try {
    for (let read = readSync(fd, chunk); read > 0; read = readSync(fd, chunk)) hash.update(chunk.subarray(0, read));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/**
 * The artifacts a job receives are inputs too: a job that tests what another built must not
 * reuse its result when that build's output differs, though the tree is the same. Each file's
 * content and mode count (an executable bit decides whether `./tool` runs).
 */
function artifactsDigest(sources: JobContext['artifacts']): string {
  const hash = createHash('sha256');
  for (const [name, stored] of sources) {
    hash.update(`job ${JSON.stringify(name)}\n`);
    for (const entry of parentsFirst(stored.entries)) {
      hash.update(`${entry.type} ${JSON.stringify(entry.path)} `);
      if (entry.type === 'file') hash.update(`${entry.mode.toString(8)} ${fileDigest(join(stored.dir, entry.path))}`);
      else if (entry.type === 'symlink') hash.update(JSON.stringify(entry.target));
      hash.update('\n');
    }
  }
  return hash.digest('hex');
}

/**
 * The reused job's log says whose result it is and how to run it again; nothing runs. Its
 * artifacts are copied into this pipeline's own directory, so that a later job of the pipeline
 * never reads the store, which another keep may prune or replace meanwhile.
 */
export function replayResult(found: KeptResult, context: JobContext): JobResult {
  let artifacts: StoredArtifacts | undefined;
  if (found.artifacts !== undefined) {
    const dir = artifactDir(context.runDir, context.jobId);
    mkdirSync(dir, { recursive: true });
    placeTree(found.artifacts.dir, dir, found.artifacts.entries, 'copy');
    artifacts = { dir, entries: found.artifacts.entries };
  }
  mkdirSync(dirname(context.logFile), { recursive: true });
  writeFileSync(
    context.logFile,
    [
      `Reusing the result of ${found.job} from pipeline #${found.pipeline} (${found.ref}, ${found.sha.slice(0, 12)}, ${found.at}):`,
      `its variables say ${REUSE_VARIABLE}: tree, and its files, definition, variables and the artifacts it receives are the same.`,
      'Run `shipway run --no-reuse` to run it again (its success then replaces this result).',
      ...(artifacts === undefined ? [] : [`${artifacts.entries.length} artifact files and directories kept from it`]),
      'Job succeeded',
      '',
    ].join('\n'),
  );
  return { exitCode: 0, dotenv: found.dotenv, artifacts };
}

/** Keeps a job's success for later pipelines; a failure to keep it only costs a rerun, and is said. */
export function keepReusable(reuse: Reusable, result: Omit<KeptResult, 'at'>, warn: (text: string) => void): void {
  try {
    keepResult(reuse.store.results, reuse.key, result);
  } catch (error) {
    warn(`${REUSE_VARIABLE}: its result was not kept (${(error as Error).message}); the next pipeline runs it`);
  }
}
