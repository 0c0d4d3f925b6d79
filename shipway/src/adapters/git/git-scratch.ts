import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExternalError } from '../../core/errors.js';
import { runGit } from './run-git.js';

export interface GitCredentials {
  readonly username: string;
  readonly password: string;
}

export interface GitIdentity {
  readonly name: string;
  readonly email: string;
}

export interface LogEntry {
  readonly commit: string;
  readonly date: string;
  readonly message: string;
}

// Answers git's username/password prompts from this process's environment, so a token is
// handed over in memory and never lands in a URL, .git/config or a credential store.
const ASKPASS = `#!/bin/sh
case "$1" in
  Username*) printf '%s\\n' "$SHIPWAY_GIT_USERNAME" ;;
  *) printf '%s\\n' "$SHIPWAY_GIT_PASSWORD" ;;
esac
`;

const RETRYABLE_PUSH =
  /\[rejected\]|non-fast-forward|fetch first|cannot lock ref|failed to update ref|stale info|incorrect old value/;

/**
 * A private, temporary bare repository for reading and writing one remote's branches with
 * plumbing commands only: no work tree, no checkout, nothing shared with other invocations,
 * so any number of promotions can run at once.
 */
export class GitScratch {
  private constructor(
    private readonly dir: string,
    private readonly remote: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  static async create(
    remote: string,
    credentials: GitCredentials | undefined,
    identity: GitIdentity,
    parentDir: string = tmpdir(),
  ): Promise<GitScratch> {
    const dir = await mkdtemp(join(parentDir, 'shipway-git-'));
    const env: NodeJS.ProcessEnv = {
      ...withoutGitVariables(process.env),
      GIT_TERMINAL_PROMPT: '0',
      GIT_AUTHOR_NAME: identity.name,
      GIT_AUTHOR_EMAIL: identity.email,
      GIT_COMMITTER_NAME: identity.name,
      GIT_COMMITTER_EMAIL: identity.email,
    };
    if (credentials !== undefined) {
      const askpass = join(dir, 'askpass.sh');
      await writeFile(askpass, ASKPASS);
      await chmod(askpass, 0o700);
      Object.assign(env, {
        GIT_ASKPASS: askpass,
        SHIPWAY_GIT_USERNAME: credentials.username,
        SHIPWAY_GIT_PASSWORD: credentials.password,
      });
    }
    const scratch = new GitScratch(dir, remote, env);
    await scratch.git(['init', '--quiet', '--bare', '.']);
    if (credentials !== undefined) await scratch.git(['config', 'credential.helper', '']);
    return scratch;
  }

  async dispose(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }

  /** Fetches a branch of the remote; returns its commit, or null when the branch does not exist. */
  async fetchBranch(branch: string, options: { depth?: number } = {}): Promise<string | null> {
    const local = `refs/shipway/${branch}`;
    const depth = options.depth === undefined ? [] : [`--depth=${options.depth}`];
    const result = await this.run([
      'fetch',
      '--quiet',
      '--no-tags',
      ...depth,
      this.remote,
      `+refs/heads/${branch}:${local}`,
    ]);
    if (result.code !== 0) {
      if (/couldn't find remote ref|no such ref/i.test(result.stderr)) return null;
      throw gitFailure(`fetch branch ${branch} from ${this.remote}`, result.stderr);
    }
    return (await this.git(['rev-parse', local])).trim();
  }

  /** Fetches HEAD of a local repository (the commit being deployed) to start a new branch from. */
  async fetchHead(repository: string): Promise<string> {
    const result = await this.run([
      'fetch',
      '--quiet',
      '--no-tags',
      '--depth=1',
      `file://${repository}`,
      '+HEAD:refs/shipway-base',
    ]);
    if (result.code !== 0) throw gitFailure(`fetch HEAD of ${repository}`, result.stderr);
    return (await this.git(['rev-parse', 'refs/shipway-base'])).trim();
  }

  async readFile(commit: string, path: string): Promise<string | null> {
    const result = await this.run(['cat-file', 'blob', `${commit}:${path}`]);
    return result.code === 0 ? result.stdout : null;
  }

  /** Writes one file on top of `parent` and returns the new commit; the branch is not moved. */
  async commitFile(parent: string, path: string, content: string, message: string): Promise<string> {
    const blob = (await this.git(['hash-object', '-w', '--stdin'], content)).trim();
    const mode = (await this.git(['ls-tree', parent, '--', path])).split(' ')[0] || '100644';
    const index = { GIT_INDEX_FILE: join(this.dir, `index-${process.pid}-${Date.now()}`) };
    await this.git(['read-tree', parent], undefined, index);
    await this.git(['update-index', '--add', '--cacheinfo', `${mode},${blob},${path}`], undefined, index);
    const tree = (await this.git(['write-tree'], undefined, index)).trim();
    return (await this.git(['commit-tree', tree, '-p', parent, '-F', '-'], message)).trim();
  }

  /** Pushes `commit` to the branch; 'rejected' when the branch moved meanwhile (the caller retries). */
  async push(commit: string, branch: string): Promise<'pushed' | 'rejected'> {
    const result = await this.run(['push', '--quiet', '--porcelain', this.remote, `${commit}:refs/heads/${branch}`]);
    if (result.code === 0) return 'pushed';
    if (RETRYABLE_PUSH.test(result.stdout + result.stderr)) return 'rejected';
    throw gitFailure(`push to ${branch} on ${this.remote}`, result.stderr || result.stdout);
  }

  /** Writes the whole tree of `commit` into `dest` (which must exist), without touching any HEAD. */
  async exportTree(commit: string, dest: string): Promise<void> {
    const index = { GIT_INDEX_FILE: join(this.dir, `export-index-${process.pid}-${Date.now()}`) };
    await this.git(['--work-tree', dest, 'read-tree', commit], undefined, index);
    await this.git(['--work-tree', dest, 'checkout-index', '--all', '--force'], undefined, index);
  }

  /** The commit a remote branch points at, without fetching it; undefined when it does not exist. */
  async remoteHead(branch: string): Promise<string | undefined> {
    const result = await this.run(['ls-remote', this.remote, `refs/heads/${branch}`]);
    if (result.code !== 0) throw gitFailure(`ls-remote ${this.remote}`, result.stderr);
    return result.stdout.split(/\s/)[0] || undefined;
  }

  /** The tips of several remote branches in one round trip; branches that do not exist are absent. */
  async remoteHeads(branches: readonly string[]): Promise<Map<string, string>> {
    const result = await this.run(['ls-remote', this.remote, ...branches.map((branch) => `refs/heads/${branch}`)]);
    if (result.code !== 0) throw gitFailure(`ls-remote ${this.remote}`, result.stderr);
    const heads = new Map<string, string>();
    for (const [sha = '', ref = ''] of result.stdout.split('\n').map((line) => line.split('\t')))
      if (ref.startsWith('refs/heads/')) heads.set(ref.slice('refs/heads/'.length), sha);
    return heads;
  }

  /** Fetches the remote's default branch (its HEAD) with its history; null when the remote has none. */
  async fetchRemoteHead(): Promise<string | null> {
    const result = await this.run(['fetch', '--quiet', '--no-tags', this.remote, '+HEAD:refs/shipway-remote-head']);
    if (result.code !== 0) return null;
    return (await this.git(['rev-parse', 'refs/shipway-remote-head'])).trim();
  }

  /** A read-only git command on what this scratch repository has fetched (log, show); its stdout. */
  async read(args: readonly string[]): Promise<string> {
    return this.git(args);
  }

  /** Commits on `ref` that touched `path`, newest first. */
  async log(ref: string, path: string): Promise<LogEntry[]> {
    const out = await this.git(['log', '--format=%H%x1f%cI%x1f%B%x1e', ref, '--', path]);
    return out
      .split('\x1e')
      .map((record) => record.trim())
      .filter((record) => record !== '')
      .map((record) => {
        const [commit = '', date = '', message = ''] = record.split('\x1f');
        return { commit, date, message };
      });
  }

  private run(args: readonly string[], input?: string, extraEnv: NodeJS.ProcessEnv = {}) {
    return runGit(args, {
      cwd: this.dir,
      env: { ...this.env, ...extraEnv, GIT_DIR: this.dir },
      ...(input === undefined ? {} : { input }),
    }).catch((error: unknown) => {
      throw new ExternalError('GIT_MISSING', 'git could not be started', {
        cause: error,
        hint: 'install git (Debian: apt-get install git)',
      });
    });
  }

  private async git(args: readonly string[], input?: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<string> {
    const result = await this.run(args, input, extraEnv);
    if (result.code !== 0) throw gitFailure(`git ${args[0] ?? ''}`, result.stderr);
    return result.stdout;
  }
}

function withoutGitVariables(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(env).filter(([key]) => !/^GIT_(DIR|WORK_TREE|INDEX_FILE|ASKPASS)$/.test(key)),
  );
}

function gitFailure(what: string, stderr: string): ExternalError {
  const reason =
    stderr
      .split('\n')
      .map((line) => line.replace(/^(fatal|error|remote):\s*/, '').trim())
      .filter((line) => line !== '')
      .pop() ?? 'no output';
  const auth = /authentication failed|could not read username|403|401|permission denied/i.test(stderr);
  return new ExternalError(auth ? 'GIT_AUTH' : 'GIT_FAILED', `${what} failed: ${reason}`, {
    hint: auth
      ? 'check the push token: CI_JOB_TOKEN (with job-token push allowed), SHIPWAY_GIT_TOKEN or CI_PUSH_TOKEN'
      : undefined,
  });
}
