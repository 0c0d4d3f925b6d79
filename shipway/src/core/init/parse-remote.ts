/** A Git remote as Argo CD should read it, and the GitLab project path it names. */
export interface ParsedRemote {
  /** The URL without user or password (a token in a remote URL must not be copied anywhere). */
  readonly url: string;
  readonly hadCredentials: boolean;
  /** `group/sub/project` for a GitLab HTTP(S) or SSH URL; null for a path or an odd URL. */
  readonly projectPath: string | null;
}

const SCP_LIKE = /^(?:([^@/\s]+)@)?([^:/\s@]+):(?!\/\/)(.+)$/;

function projectPathOf(path: string): string | null {
  const clean = path
    .replace(/^\/+/, '')
    .replace(/\/+$/, '')
    .replace(/\.git$/, '');
  return /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)+$/.test(clean) ? clean : null;
}

/**
 * `https://user:token@gitlab.example.com/team/svc.git`, `ssh://git@host:22/team/svc.git` and
 * `git@host:team/svc.git` (Git's scp-like syntax, git-clone(1) "GIT URLS").
 */
export function parseRemote(remote: string): ParsedRemote | undefined {
  const text = remote.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return undefined;
    }
    const hadCredentials = url.protocol !== 'ssh:' ? url.username !== '' || url.password !== '' : url.password !== '';
    if (url.protocol !== 'ssh:') url.username = '';
    url.password = '';
    if (url.protocol === 'file:') return { url: url.toString(), hadCredentials, projectPath: null };
    return { url: url.toString(), hadCredentials, projectPath: projectPathOf(decodeURIComponent(url.pathname)) };
  }
  const scp = SCP_LIKE.exec(text);
  if (scp === null || text.startsWith('/') || text.startsWith('.')) return undefined;
  const [, user, host = '', path = ''] = scp;
  const name = user?.split(':')[0];
  return {
    url: `${name === undefined || name === '' ? '' : `${name}@`}${host}:${path}`,
    hadCredentials: user?.includes(':') === true,
    projectPath: projectPathOf(path),
  };
}
