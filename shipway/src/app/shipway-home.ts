import { existsSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { RefusedError } from '../core/errors.js';
import { type StackPaths, stackPaths } from '../core/stack/stack-paths.js';
import { makePrivate } from '../local/cluster/state-dir.js';
import type { AppContext } from './context.js';

/** The per-user stack's paths for this context (SHIPWAY_HOME, XDG_STATE_HOME, HOME); nothing is created. */
export function stackPathsOf(context: AppContext): StackPaths {
  return stackPaths(context.env, context.env.HOME || homedir());
}

/**
 * The stack's directory, created 0700 or checked: it holds the cluster's kubeconfig (its API
 * token), every project's GitLab stand-in and the images, so it must be the user's own and
 * writable by nobody else. Another user's directory, or one that others may write into (they
 * could have planted an app record, a repository or a kubeconfig), is refused; one that is
 * merely readable by others is narrowed to 0700. `create: false` (commands that only read the
 * stack) creates nothing: a missing home is left missing.
 */
export async function openStackHome(
  context: AppContext,
  options: { create: boolean } = { create: true },
): Promise<StackPaths> {
  const paths = stackPathsOf(context);
  if (options.create) await mkdir(paths.home, { recursive: true, mode: 0o700 });
  else if (!existsSync(paths.home)) return paths;
  for (const dir of [paths.home, paths.cluster, paths.registry, paths.gitlab, paths.caches]) {
    const info = await stat(dir).catch(() => undefined);
    if (info === undefined) continue;
    const uid = process.getuid?.();
    const hint = `set SHIPWAY_HOME to a directory of your own (now ${paths.home}, from ${paths.from})`;
    if (!info.isDirectory()) throw new RefusedError('STACK_HOME_UNSAFE', `${dir} is not a directory`, { hint });
    if (uid !== undefined && info.uid !== uid)
      throw new RefusedError('STACK_HOME_UNSAFE', `${dir} belongs to uid ${info.uid}, not to you (uid ${uid})`, {
        hint,
      });
    if ((info.mode & 0o022) !== 0)
      throw new RefusedError(
        'STACK_HOME_UNSAFE',
        `${dir} is writable by other users (mode ${(info.mode & 0o777).toString(8)})`,
        { hint: `chmod 700 ${dir} after checking what is in it, or ${hint}` },
      );
  }
  await makePrivate(paths.home);
  return paths;
}
