import { createHash } from 'node:crypto';
import { parseRemote } from '../init/parse-remote.js';

/** host of `https://host:port/…`, `ssh://user@host/…` or Git's scp-like `user@host:path`. */
function hostOf(remote: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(remote)) {
    try {
      return new URL(remote).hostname || undefined;
    } catch {
      return undefined;
    }
  }
  return /^(?:[^@/\s]+@)?([^:/\s@]+):(?!\/\/)/.exec(remote)?.[1];
}

/**
 * What makes two checkouts "the same project": the GitLab project their `origin` names
 * (host/group/project, so an HTTPS and an SSH clone agree, and no credentials take part), else
 * the remote as written with credentials removed (a path or another kind of URL), else, with no
 * origin at all, the checkout's own directory.
 */
export function projectIdentity(origin: string | undefined, checkout: string): string {
  if (origin === undefined || origin.trim() === '') return `checkout:${checkout}`;
  const parsed = parseRemote(origin);
  const host = hostOf(origin.trim());
  if (parsed?.projectPath != null && host !== undefined) return `project:${host}/${parsed.projectPath}`.toLowerCase();
  return `remote:${parsed?.url ?? origin.trim()}`;
}

/**
 * The key of a project in the local stack: its app name (readable in `ls`) and 12 hex digits of
 * SHA-256 over its identity, so two clones of one project share their GitLab stand-in and app
 * record, and two projects never do, even under the same app name. Only [a-z0-9-]: safe as a
 * file name.
 */
export function projectKey(app: string, identity: string): string {
  const hash = createHash('sha256').update(identity).digest('hex').slice(0, 12);
  return `${app.slice(0, 100)}-${hash}`;
}
