import { isAbsolute, resolve } from 'node:path';
import { GitCheckout } from '../adapters/git/git-checkout.js';
import type { GitCredentials, GitIdentity } from '../adapters/git/git-scratch.js';
import { chooseGitRemote, type RemoteSource, runsInCi } from '../core/config/choose-git-remote.js';
import { ConfigError } from '../core/errors.js';
import { readCheckoutStack } from './checkout-stack.js';
import type { AppContext } from './context.js';

export interface Remote {
  /** The URL with any user:password removed; the only form shipway passes to git or prints. */
  readonly url: string;
  readonly hadEmbeddedCredentials: boolean;
}

/**
 * `git.remote` in shipway.yaml is a remote name of the current checkout (default `origin`), a URL,
 * or a path. GitLab's checkout URL carries the job token as userinfo; it is stripped here and the
 * token is handed to git through GIT_ASKPASS instead (see credentialsFrom).
 */
export async function resolveRemote(context: AppContext, configured: string): Promise<Remote> {
  const looksLikeLocation =
    /^[a-z][a-z0-9+.-]*:\/\//i.test(configured) || /[/\\]/.test(configured) || configured.startsWith('.');
  let location = configured;
  if (!looksLikeLocation) {
    const url = await new GitCheckout(context.cwd).remoteUrl(configured);
    if (url === undefined) {
      throw new ConfigError(
        'CONFIG_INVALID',
        `git remote ${JSON.stringify(configured)} is not configured in ${context.cwd}`,
        { hint: 'set git.remote in shipway.yaml to a remote name, URL or path' },
      );
    }
    location = url;
  }
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) {
    return {
      url: isAbsolute(location) || location.includes(':') ? location : resolve(context.cwd, location),
      hadEmbeddedCredentials: false,
    };
  }
  const url = new URL(location);
  const hadEmbeddedCredentials = url.username !== '' || url.password !== '';
  url.username = '';
  url.password = '';
  return { url: url.toString(), hadEmbeddedCredentials };
}

const SOURCES: Record<Exclude<RemoteSource, 'shipway.yaml'>, string> = {
  '--remote': 'from --remote',
  SHIPWAY_GIT_REMOTE: 'from SHIPWAY_GIT_REMOTE',
  'local-stack': "the local stack's GitLab stand-in that `shipway run` pushed to; --remote origin reads origin",
};

/**
 * The GitOps remote of a command run in this checkout (the rule: core/config/choose-git-remote.ts).
 * When it is not shipway.yaml's git.remote, says which one on stderr.
 */
export async function chooseRemote(context: AppContext, configured: string, flag: string | undefined): Promise<Remote> {
  const marker = runsInCi(context.env) ? undefined : await readCheckoutStack(context.cwd);
  if (marker?.gone === true)
    context.progress(
      `note: the local stack's GitLab stand-in ${marker.remote} that \`shipway run\` recorded is gone; using ${configured}`,
    );
  const choice = chooseGitRemote({
    flag,
    env: context.env,
    configured,
    localStack: marker === undefined || marker.gone ? undefined : marker.remote,
  });
  const remote = await resolveRemote(context, choice.remote);
  if (choice.source !== 'shipway.yaml') context.progress(`git remote: ${remote.url} (${SOURCES[choice.source]})`);
  return remote;
}

/**
 * Push credentials, most specific first: SHIPWAY_GIT_TOKEN (with SHIPWAY_GIT_USERNAME), the
 * original CI_PUSH_TOKEN (with CI_USERNAME), then GitLab's CI_JOB_TOKEN as gitlab-ci-token.
 * None set: git's own credential helpers decide.
 */
export function credentialsFrom(env: AppContext['env']): GitCredentials | undefined {
  const pick = (token: string | undefined, username: string | undefined, fallback: string) =>
    token !== undefined && token !== '' ? { username: username || fallback, password: token } : undefined;
  return (
    pick(env.SHIPWAY_GIT_TOKEN, env.SHIPWAY_GIT_USERNAME, 'oauth2') ??
    pick(env.CI_PUSH_TOKEN, env.CI_USERNAME, 'oauth2') ??
    pick(env.CI_JOB_TOKEN, 'gitlab-ci-token', 'gitlab-ci-token')
  );
}

export function identityFrom(env: AppContext['env']): GitIdentity {
  return {
    name: env.GITLAB_USER_NAME || env.GIT_AUTHOR_NAME || 'shipway',
    email: env.GITLAB_USER_EMAIL || env.GIT_AUTHOR_EMAIL || 'shipway@localhost',
  };
}
