import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { ExternalError } from '../../core/errors.js';
import { gitInstallation } from '../git/git-installation.js';
import { fingerprint, hostPathEntries, sharedLibraries } from './host-files.js';
import type { LayerEntry } from './tar-layer.js';

// The CA bundle git's libcurl reads on Debian and on Red Hat; Node carries its own.
const CA_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt'];
// The helpers shipway's git needs besides the `git` binary: HTTP(S) remotes, and the shell
// libraries a few porcelain commands source. Everything else in the exec path is a link to git.
const HELPERS = ['git', 'git-remote-http', 'git-remote-https', 'git-sh-setup', 'git-sh-i18n'];

export interface HostGit {
  readonly version: string;
  /** The git binary's real path. */
  readonly binary: string;
  /** Host paths to copy into the image (links followed as chains, as host-base does). */
  readonly paths: readonly string[];
  /** A cache key part: each path's size and modification time. */
  readonly key: string;
}

/**
 * This machine's git, as the tool image needs it: the binary, its exec path's links and the HTTP
 * helpers with the shared libraries they load (`ldd`), its templates (for `git init`/`clone`),
 * and the CA bundle for HTTPS remotes. Refused when git is not installed.
 */
export async function hostGit(): Promise<HostGit> {
  const git = await gitInstallation();
  if (git === undefined)
    throw new ExternalError('GIT_MISSING', 'git is not installed on this machine', {
      hint: "the tool image copies this machine's git: install it (Debian: apt-get install git)",
    });
  const { execPath: exec, binary } = git;
  const helpers = readdirSync(exec)
    .filter((name) => HELPERS.includes(name) || isLinkToGit(exec, name))
    .map((name) => join(exec, name));
  const programs = [
    binary,
    ...helpers.filter((path) => !path.endsWith('git-sh-setup') && !path.endsWith('git-sh-i18n')),
  ];
  const libraries = [...new Set((await Promise.all(programs.map(sharedLibraries))).flat())].sort();
  const templates = ['/usr/share/git-core/templates'].filter((path) => existsSync(path));
  const ca = CA_BUNDLES.filter((path) => existsSync(path)).slice(0, 1);
  const paths = [binary, ...helpers, ...libraries, ...templates, ...ca];
  return { version: git.version, binary, paths, key: await fingerprint(paths) };
}

function isLinkToGit(dir: string, name: string): boolean {
  try {
    return realpathSync(join(dir, name)) === realpathSync(join(dir, 'git'));
  } catch {
    return false;
  }
}

/**
 * The layer entries for the host's git. Debian ships the exec path's `git` as a second copy of
 * /usr/bin/git (3.7 MB); an identical copy becomes a link to the binary.
 */
export async function gitEntries(git: HostGit): Promise<LayerEntry[]> {
  const entries = await hostPathEntries(git.paths);
  const binary = entries.find((entry) => `/${entry.path}` === git.binary);
  return entries.map((entry) =>
    entry.type === 'file' &&
    'source' in entry &&
    entry !== binary &&
    entry.path.endsWith('/git') &&
    binary?.type === 'file' &&
    'source' in binary &&
    sameBytes(entry.source, binary.source)
      ? { path: entry.path, type: 'symlink', target: git.binary }
      : entry,
  );
}

function sameBytes(a: string, b: string): boolean {
  const left = readFileSync(a);
  const right = readFileSync(b);
  return left.length === right.length && left.equals(right);
}
