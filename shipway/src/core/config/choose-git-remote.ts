/** Where a command's GitOps remote came from, for the line it prints on stderr. */
export type RemoteSource = '--remote' | 'SHIPWAY_GIT_REMOTE' | 'local-stack' | 'shipway.yaml';

export interface RemoteChoice {
  /** A remote name of the checkout, a URL or a path (app/git-remote.ts: resolveRemote). */
  readonly remote: string;
  readonly source: RemoteSource;
}

export interface RemoteInputs {
  /** --remote on the command line. */
  readonly flag?: string | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** git.remote in shipway.yaml. */
  readonly configured: string;
  /** The GitLab stand-in that `shipway run` last pushed this checkout to, if any. */
  readonly localStack?: string | undefined;
}

/** shipway.yaml's git.remote when it is not set (core/config/shipway-config.ts). */
export const DEFAULT_GIT_REMOTE = 'origin';

/**
 * GitLab sets CI=true and GITLAB_CI=true in every job ("Predefined CI/CD variables reference");
 * other CI systems set CI. Either means: not a person's checkout.
 */
export function runsInCi(env: RemoteInputs['env']): boolean {
  const set = (value: string | undefined) => value !== undefined && value !== '' && value !== 'false';
  return set(env.CI) || set(env.GITLAB_CI);
}

/**
 * Which remote `status`, `promote`, `rollback` and `rollout abort` read and write, first match:
 * --remote; SHIPWAY_GIT_REMOTE; in CI, shipway.yaml's git.remote (nothing changes there);
 * outside CI, when git.remote is the default `origin` and `shipway run` recorded the local
 * stack's GitLab stand-in for this checkout, that stand-in (the run pushed the environment
 * branches there, not to origin); else git.remote.
 */
export function chooseGitRemote(inputs: RemoteInputs): RemoteChoice {
  if (inputs.flag !== undefined && inputs.flag !== '') return { remote: inputs.flag, source: '--remote' };
  const fromEnv = inputs.env.SHIPWAY_GIT_REMOTE;
  if (fromEnv !== undefined && fromEnv !== '') return { remote: fromEnv, source: 'SHIPWAY_GIT_REMOTE' };
  if (!runsInCi(inputs.env) && inputs.configured === DEFAULT_GIT_REMOTE && inputs.localStack !== undefined)
    return { remote: inputs.localStack, source: 'local-stack' };
  return { remote: inputs.configured, source: 'shipway.yaml' };
}
