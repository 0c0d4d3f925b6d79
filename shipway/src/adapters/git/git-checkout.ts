import { ExternalError } from '../../core/errors.js';
import type { GitIdentity } from './git-scratch.js';
import { runGit } from './run-git.js';

export interface CommitFacts {
  readonly sha: string;
  readonly message: string;
}

export interface CheckoutOptions {
  /** Who commits (merges) here, given to git as `-c user.name/user.email`. */
  readonly identity?: GitIdentity | undefined;
}

/**
 * A repository with a work tree (the user's checkout, a pipeline's clone): each call runs
 * `git -C <dir>`. Methods that read facts answer undefined when git cannot tell (not a
 * repository, no such remote); methods that change the repository throw GIT_FAILED.
 */
export class GitCheckout {
  constructor(
    readonly dir: string,
    private readonly options: CheckoutOptions = {},
  ) {}

  /** Clones `remote` into `dir` (which must not exist yet). */
  static async clone(remote: string, dir: string, options: CheckoutOptions = {}): Promise<GitCheckout> {
    await checked(configFlags(options), ['clone', '--quiet', remote, dir]);
    return new GitCheckout(dir, options);
  }

  /** The commit `rev` names. */
  revParse(rev: string): Promise<string> {
    return this.checked('rev-parse', rev);
  }

  /** The full message of `rev`, trimmed. */
  message(rev: string): Promise<string> {
    return this.checked('log', '-1', '--format=%B', rev);
  }

  /** HEAD and its message; undefined outside a repository, before the first commit or without git. */
  async lastCommit(): Promise<CommitFacts | undefined> {
    const log = await this.read('log', '-1', '--format=%H%n%B');
    if (log === undefined) return undefined;
    const [sha = '', ...message] = log.split('\n');
    return { sha, message: message.join('\n').trim() };
  }

  /** The branch `origin/HEAD` names (the remote's default branch, as the clone recorded it). */
  async originDefaultBranch(): Promise<string | undefined> {
    const head = await this.read('symbolic-ref', '--short', 'refs/remotes/origin/HEAD');
    return head?.trim().replace(/^origin\//, '');
  }

  /** The branch checked out; undefined on a detached HEAD, outside a repository or without git. */
  async currentBranch(): Promise<string | undefined> {
    const branch = (await this.read('branch', '--show-current'))?.trim();
    return branch === '' ? undefined : branch;
  }

  /** The URL configured for a remote name; undefined when it is not configured. Rejects without git. */
  async remoteUrl(name: string): Promise<string | undefined> {
    const result = await runGit(this.argv(['remote', 'get-url', name]));
    return result.code === 0 ? result.stdout.trim() : undefined;
  }

  /**
   * Whether `remote` has the branch `branch`, exactly. `ls-remote <pattern>` matches the tail of a
   * ref name (git-ls-remote(1), <patterns>), so `dev` alone would also match `feature/dev`: the
   * full ref is asked for and the answer compared.
   */
  async remoteHasBranch(remote: string, branch: string): Promise<boolean> {
    const ref = `refs/heads/${branch}`;
    const result = await runGit(this.argv(['ls-remote', '--heads', remote, ref]));
    return result.stdout.split('\n').some((line) => line.split('\t')[1] === ref);
  }

  /** Fetches `ref` (default: the source's HEAD) into FETCH_HEAD. */
  async fetch(source: string, ref?: string): Promise<void> {
    await this.checked('fetch', '--quiet', source, ...(ref === undefined ? [] : [ref]));
  }

  /** Points `branch` at `start` and checks it out, discarding changes in the work tree. */
  async checkoutBranch(branch: string, start: string): Promise<void> {
    await this.checked('checkout', '--quiet', '--force', '-B', branch, start);
  }

  /** Merges `commit` into HEAD; where both sides changed the same lines, HEAD's side wins (`-X ours`). */
  async mergeFavouringOurs(commit: string, message: string): Promise<void> {
    await this.checked('merge', '--quiet', '--no-edit', '-X', 'ours', '-m', message, commit);
  }

  async push(remote: string, refspec: string): Promise<void> {
    await this.checked('push', '--quiet', remote, refspec);
  }

  /**
   * Checks out `commit` (detached) and removes every untracked and ignored file: a clean
   * checkout as a runner makes. A failure throws GIT_FAILED: a job must not run (nor have its
   * result kept under the commit's tree) on files that are not the commit's.
   */
  async resetTo(commit: string): Promise<void> {
    await this.checked('checkout', '--quiet', '--force', commit);
    await this.checked('clean', '--quiet', '-ffdx');
  }

  /** Every file of `rev`'s tree as `<mode> <type> <object>\t<path>` (git ls-tree -r -z), paths unquoted. */
  async treeListing(rev: string): Promise<string[]> {
    return (await this.checked('ls-tree', '-r', '--full-tree', '-z', rev)).split('\0').filter(Boolean);
  }

  /** Untracked files not ignored, relative to the work tree (empty when git fails). */
  async untrackedFiles(): Promise<string[]> {
    const result = await runGit(this.argv(['ls-files', '--others', '-z']));
    return result.stdout.split('\0').filter(Boolean);
  }

  private argv(args: readonly string[]): string[] {
    return [...configFlags(this.options), '-C', this.dir, ...args];
  }

  /** A read's stdout, or undefined when git fails or cannot be started. */
  private async read(...args: string[]): Promise<string | undefined> {
    const result = await runGit(this.argv(args)).catch(() => undefined);
    return result?.code === 0 ? result.stdout : undefined;
  }

  private checked(...args: string[]): Promise<string> {
    return checked([...configFlags(this.options), '-C', this.dir], args);
  }
}

function configFlags(options: CheckoutOptions): string[] {
  const identity = options.identity;
  return identity === undefined ? [] : ['-c', `user.name=${identity.name}`, '-c', `user.email=${identity.email}`];
}

/** Runs `git <prefix> <args>`; its trimmed stdout, or GIT_FAILED naming the command and git's complaint. */
async function checked(prefix: readonly string[], args: readonly string[]): Promise<string> {
  const result = await runGit([...prefix, ...args]);
  if (result.code !== 0) throw new ExternalError('GIT_FAILED', `git ${args.join(' ')}: ${result.stderr.trim()}`);
  return result.stdout.trim();
}
