import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { placeTree } from '../adapters/files/place-tree.js';
import { selectFiles } from '../adapters/files/select-files.js';
import type { CiMap } from '../core/pipeline/ci-yaml.js';
import { artifactSelection, keptAfter } from '../core/runner/file-selection.js';
import type { TreeEntry } from '../core/runner/tree-entry.js';

/** A job's artifacts, kept for the rest of its pipeline: copies under the pipeline's directory. */
export interface StoredArtifacts {
  readonly dir: string;
  readonly entries: readonly TreeEntry[];
}

export interface ArtifactRun {
  readonly workspace: string;
  readonly expand: (text: string) => string;
  readonly untracked: () => readonly string[];
  readonly log: (line: string) => void;
}

/**
 * Collects the job's `artifacts:paths` (with `exclude` and `untracked`) into `dir` after it ends,
 * when `artifacts:when` says so, as copies: a later job may change its own files freely.
 * `expire_in` means nothing for one local run. Paths outside the project directory, or reached
 * through a symlink, are reported in the log and left out; symlinks are kept as links.
 */
export function collectArtifacts(
  definition: CiMap,
  run: ArtifactRun,
  dir: string,
  succeeded: boolean,
): StoredArtifacts | undefined {
  const selection = artifactSelection(definition);
  if (selection === undefined || !keptAfter(selection.when, succeeded)) return undefined;
  run.log('Uploading artifacts...');
  const { entries, notes } = selectFiles(run.workspace, selection, run.expand, run.untracked);
  for (const note of notes) run.log(`WARNING: ${note}`);
  mkdirSync(dir, { recursive: true });
  placeTree(run.workspace, dir, entries, 'copy');
  run.log(`${entries.length} artifact files and directories kept`);
  return { dir, entries };
}

/**
 * Restores the artifacts of `sources`, job name and files (in order; a later one overwrites an earlier one's file, as
 * extracting one archive after another does) into the workspace. Nothing is written through a
 * symlink: an artifact whose parent in the workspace is a symlink (one the commit tracks, or one
 * an earlier artifact brought) is left out and reported.
 */
export function restoreArtifacts(
  sources: readonly (readonly [string, StoredArtifacts])[],
  run: Pick<ArtifactRun, 'workspace' | 'log'>,
): void {
  for (const [name, artifacts] of sources) {
    run.log(`Downloading artifacts for ${name}...`);
    for (const path of placeTree(artifacts.dir, run.workspace, artifacts.entries, 'copy'))
      run.log(`WARNING: ${path}: not restored (a symlink or a file is in the way in the workspace)`);
  }
}

export function artifactDir(runDir: string, jobId: number): string {
  return join(runDir, 'artifacts', String(jobId));
}
