import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { placeTree } from '../adapters/files/place-tree.js';
import { treeBelow } from '../adapters/files/walk-tree.js';
import { sameTree } from '../core/runner/tree-entry.js';
import { discardTree } from './discard-tree.js';
import type { StoredArtifacts } from './job-artifacts.js';

/**
 * The results of jobs that declare `SHIPWAY_REUSE: tree`, kept per project in the local stack
 * (`<results>/<key>/result.json` and `artifacts/`), so that a later pipeline with the same tree and
 * the same job reuses it: the environment branches of one release, or a fresh clone of a commit
 * already built on this machine. Only successes are kept.
 */
export interface KeptResult {
  readonly job: string;
  readonly pipeline: number;
  readonly ref: string;
  readonly sha: string;
  readonly at: string;
  readonly dotenv: ReadonlyMap<string, string>;
  readonly artifacts: StoredArtifacts | undefined;
}

const entry = z.discriminatedUnion('type', [
  z.object({ path: z.string(), type: z.literal('dir') }),
  z.object({ path: z.string(), type: z.literal('file'), size: z.number(), mtimeMs: z.number(), mode: z.number() }),
  z.object({ path: z.string(), type: z.literal('symlink'), target: z.string() }),
]);

const resultFile = z.object({
  version: z.literal(1),
  job: z.string(),
  pipeline: z.number(),
  ref: z.string(),
  sha: z.string(),
  at: z.string(),
  dotenv: z.record(z.string(), z.string()),
  artifacts: z.array(entry).nullable(),
});

const RESULT = 'result.json';
const ARTIFACTS = 'artifacts';

/**
 * The result kept under `key`, or undefined: none, an unreadable one, or one whose artifacts were
 * changed since they were kept (then it is thrown away, as a cache entry is).
 */
export function findResult(results: string, key: string): KeptResult | undefined {
  const dir = join(results, key);
  let parsed: z.infer<typeof resultFile>;
  try {
    parsed = resultFile.parse(JSON.parse(readFileSync(join(dir, RESULT), 'utf8')));
  } catch {
    return undefined;
  }
  let artifacts: StoredArtifacts | undefined;
  if (parsed.artifacts !== null) {
    const root = join(dir, ARTIFACTS);
    if (!sameTree(treeBelow(root), parsed.artifacts)) {
      discardTree(dir);
      return undefined;
    }
    artifacts = { dir: root, entries: parsed.artifacts };
  }
  // Used now: the pruning below throws away the results used least recently.
  try {
    const now = new Date();
    utimesSync(dir, now, now);
  } catch {
    // Only the order of pruning depends on it.
  }
  const { job, pipeline, ref, sha, at } = parsed;
  return { job, pipeline, ref, sha, at, dotenv: new Map(Object.entries(parsed.dotenv)), artifacts };
}

/** Keeps a successful result under `key` (its artifacts copied), replacing any kept before. */
export function keepResult(results: string, key: string, result: Omit<KeptResult, 'at'>): void {
  const temporary = join(results, `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(temporary, { recursive: true });
  let entries: z.infer<typeof entry>[] | null = null;
  if (result.artifacts !== undefined) {
    mkdirSync(join(temporary, ARTIFACTS));
    placeTree(result.artifacts.dir, join(temporary, ARTIFACTS), result.artifacts.entries, 'copy');
    // What was written: a copy has its own modification times.
    entries = treeBelow(join(temporary, ARTIFACTS));
  }
  const file: z.infer<typeof resultFile> = {
    version: 1,
    job: result.job,
    pipeline: result.pipeline,
    ref: result.ref,
    sha: result.sha,
    at: new Date().toISOString(),
    dotenv: Object.fromEntries(result.dotenv),
    artifacts: entries,
  };
  writeFileSync(join(temporary, RESULT), JSON.stringify(file));
  discardTree(join(results, key));
  renameSync(temporary, join(results, key));
  pruneResults(results, KEEP);
}

/** How many results a project keeps: enough for every reusable job of a few releases' pipelines. */
const KEEP = 50;

/**
 * Throws away all but the `keep` results kept or used most recently, so the store stays bounded,
 * and any half-written `.tmp-*` of a keep that died more than an hour ago.
 */
export function pruneResults(results: string, keep: number): void {
  const entries = readdirSync(results, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => ({ name: entry.name, at: statSync(join(results, entry.name)).mtimeMs }));
  const kept = entries.filter((entry) => !entry.name.startsWith('.')).sort((a, b) => b.at - a.at);
  const abandoned = entries.filter((entry) => entry.name.startsWith('.tmp-') && entry.at < Date.now() - 3_600_000);
  for (const old of [...kept.slice(keep), ...abandoned]) discardTree(join(results, old.name));
}
