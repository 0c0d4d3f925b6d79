import { setTimeout as sleep } from 'node:timers/promises';
import { ExternalError } from '../../core/errors.js';
import { runGit } from './run-git.js';

/**
 * Creates a bare repository whose default branch is `main`. On an existing repository git only
 * re-initialises it. Two processes doing this at once can collide on the config file's lock
 * ("could not lock config file … File exists"): the one that loses tries again, and then finds
 * the repository the other made.
 */
export async function initBareRepository(path: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const init = await runGit(['init', '--quiet', '--bare', '--initial-branch=main', path]);
    if (init.code === 0) return;
    if (attempt >= 5 || !/could not lock|File exists/i.test(init.stderr))
      throw new ExternalError('GIT_FAILED', `git init ${path}: ${init.stderr.trim()}`);
    await sleep(20 * attempt);
  }
}
