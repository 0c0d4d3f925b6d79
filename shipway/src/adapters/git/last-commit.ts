import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { runGit } from './run-git.js';

export interface PathsCommit {
  readonly sha: string;
  /** Committer time, seconds since the epoch. */
  readonly time: number;
  /**
   * The commit is a shallow clone's boundary: Git shows it as adding every file, so the commit
   * that really last changed the paths may be older and not in this clone.
   */
  readonly shallowBoundary: boolean;
}

async function git(cwd: string, args: readonly string[]): Promise<string | undefined> {
  const result = await runGit(args, { cwd }).catch(() => undefined);
  return result?.code === 0 ? result.stdout.trim() : undefined;
}

/**
 * The last commit that changed any of `paths` (relative to `cwd`), as `git log -1 -- <paths>`
 * finds it: with Git's default history simplification a merge that took the paths from one side
 * resolves to the commit on that side. Undefined outside a repository or before the first commit.
 */
export async function lastCommitTouching(cwd: string, paths: readonly string[]): Promise<PathsCommit | undefined> {
  const line = await git(cwd, ['--literal-pathspecs', 'log', '-1', '--format=%H %ct', '--', ...paths]);
  const match = /^([0-9a-f]{40,64}) (\d+)$/.exec(line ?? '');
  if (match === null) return undefined;
  const sha = match[1] ?? '';
  let shallowBoundary = false;
  if ((await git(cwd, ['rev-parse', '--is-shallow-repository'])) === 'true') {
    const file = await git(cwd, ['rev-parse', '--git-path', 'shallow']);
    const boundaries = file === undefined ? '' : await readFile(resolve(cwd, file), 'utf8').catch(() => '');
    shallowBoundary = boundaries.split('\n').includes(sha);
  }
  return { sha, time: Number(match[2]), shallowBoundary };
}
