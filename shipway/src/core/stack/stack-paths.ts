import { isAbsolute, join } from 'node:path/posix';
import { ConfigError } from '../errors.js';

/**
 * Where the local stack lives: one directory per user, outside every repository, so that all the
 * user's checkouts share one registry, one cluster and one GitLab stand-in per project.
 */
export interface StackPaths {
  readonly home: string;
  /** Which setting chose `home`, for messages. */
  readonly from: 'SHIPWAY_HOME' | 'XDG_STATE_HOME' | 'HOME';
  /** The embedded cluster's state dir: kubeconfig, cluster.json, objects, pods, apps/. */
  readonly cluster: string;
  /** The embedded registry's storage. */
  readonly registry: string;
  /** The bare repositories standing in for each project on GitLab. */
  readonly gitlab: string;
  /** Each project's job caches and reusable job results, shared by all its checkouts. */
  readonly caches: string;
  readonly kubeconfig: string;
}

/** The app records the cluster follows, inside its state dir (so `--state-dir` clusters have their own). */
export const APPS_DIR = 'apps';

/**
 * SHIPWAY_HOME, else $XDG_STATE_HOME/shipway, else ~/.local/state/shipway. The XDG Base
 * Directory Specification puts "state data that should persist between (application) restarts"
 * in $XDG_STATE_HOME (default $HOME/.local/state) and says a relative path there is invalid and
 * is to be ignored; a relative SHIPWAY_HOME would name a different stack in every directory, so
 * it is refused.
 */
export function stackPaths(env: Readonly<Record<string, string | undefined>>, homedir: string): StackPaths {
  const explicit = env.SHIPWAY_HOME;
  if (explicit !== undefined && explicit !== '' && !isAbsolute(explicit))
    throw new ConfigError(
      'SHIPWAY_HOME_INVALID',
      `SHIPWAY_HOME must be an absolute path, got ${JSON.stringify(explicit)}`,
      { hint: 'set SHIPWAY_HOME to an absolute directory, or unset it to use ~/.local/state/shipway' },
    );
  const xdg = env.XDG_STATE_HOME;
  const [home, from]: [string, StackPaths['from']] =
    explicit !== undefined && explicit !== ''
      ? [explicit, 'SHIPWAY_HOME']
      : xdg !== undefined && isAbsolute(xdg)
        ? [join(xdg, 'shipway'), 'XDG_STATE_HOME']
        : [join(homedir, '.local', 'state', 'shipway'), 'HOME'];
  const cluster = join(home, 'cluster');
  return {
    home,
    from,
    cluster,
    registry: join(home, 'registry'),
    gitlab: join(home, 'gitlab'),
    caches: join(home, 'cache'),
    kubeconfig: join(cluster, 'kubeconfig'),
  };
}
