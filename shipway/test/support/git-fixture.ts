import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface GitFixture {
  readonly root: string;
  /** A bare repository standing in for GitLab. */
  readonly remote: string;
  /** A clone with shipway.yaml and deployment/, its origin pointing at the remote. */
  readonly work: string;
  git(dir: string, ...args: string[]): string;
  /** The remote's branches and their commits, to prove that nothing was pushed. */
  refs(): string;
  cleanup(): void;
}

const GIT_ENV = {
  GIT_AUTHOR_NAME: 'test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
};

export function git(dir: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd: dir,
    env: { ...process.env, ...GIT_ENV },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** A temp dir with a bare remote and a clone holding this repository's shipway.yaml and deployment/. */
export function createGitFixture(options: { shipwayYaml?: string } = {}): GitFixture {
  const root = mkdtempSync(join(tmpdir(), 'shipway-test-'));
  const remote = join(root, 'remote.git');
  const work = join(root, 'work');
  git(root, 'init', '--quiet', '--bare', '--initial-branch=main', remote);
  git(root, 'init', '--quiet', '--initial-branch=main', work);
  cpSync(join(REPO_ROOT, 'deployment'), join(work, 'deployment'), { recursive: true });
  if (options.shipwayYaml === undefined) cpSync(join(REPO_ROOT, 'shipway.yaml'), join(work, 'shipway.yaml'));
  else writeFileSync(join(work, 'shipway.yaml'), options.shipwayYaml);
  git(work, 'add', '-A');
  git(work, 'commit', '--quiet', '-m', 'initial');
  git(work, 'remote', 'add', 'origin', remote);
  git(work, 'push', '--quiet', 'origin', 'main');
  return {
    root,
    remote,
    work,
    git,
    refs: () => git(remote, 'for-each-ref', '--format=%(refname) %(objectname)'),
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

export const DIGEST_A = `sha256:${'a'.repeat(64)}`;
export const DIGEST_B = `sha256:${'b'.repeat(64)}`;
export const DIGEST_C = `sha256:${'c'.repeat(64)}`;
export function digestOf(n: number): string {
  return `sha256:${n.toString(16).padStart(64, '0')}`;
}
