import { ExternalError } from '../../core/errors.js';
import { runGit } from './run-git.js';

/**
 * Creates a bare repository whose default branch is `main`. On an existing repository git only
 * re-initialises it, so two processes doing this at once both succeed.
 */
export async function initBareRepository(path: string): Promise<void> {
  const init = await runGit(['init', '--quiet', '--bare', '--initial-branch=main', path]);
  if (init.code !== 0) throw new ExternalError('GIT_FAILED', `git init ${path}: ${init.stderr.trim()}`);
}
