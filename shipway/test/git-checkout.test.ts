import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GitCheckout } from '../src/adapters/git/git-checkout.js';
import { initBareRepository } from '../src/adapters/git/init-bare-repository.js';
import { remoteBranchHeads } from '../src/adapters/git/remote-branch-heads.js';
import { pushHead } from '../src/app/push-head.js';
import { git } from './support/git-fixture.js';

// `shipway run` hands the checkout's HEAD to the local GitLab stand-in through adapters/git
// (app/push-head.ts): real repositories in a temp dir, the real git.
const root = mkdtempSync(join(tmpdir(), 'shipway-git-checkout-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let count = 0;
function repositories(): { remote: string; work: string; runs: string } {
  count += 1;
  const base = join(root, String(count));
  const remote = join(base, 'remote.git');
  const work = join(base, 'work');
  mkdirSync(base);
  git(base, 'init', '--quiet', '--bare', '--initial-branch=main', remote);
  git(base, 'init', '--quiet', '--initial-branch=main', work);
  writeFileSync(join(work, 'image.txt'), 'image: v1\n');
  git(work, 'add', '.');
  git(work, 'commit', '--quiet', '-m', 'first');
  git(work, 'remote', 'add', 'origin', remote);
  git(work, 'push', '--quiet', 'origin', 'main');
  return { remote, work, runs: join(base, 'runs') };
}

describe('pushHead', () => {
  it("creates a branch the remote lacks at the checkout's HEAD", async () => {
    const { remote, work, runs } = repositories();
    const head = git(work, 'rev-parse', 'HEAD').trim();
    const sha = await pushHead(work, remote, join(runs, '1', 'work'), 'dev');
    expect(sha).toBe(head);
    expect((await remoteBranchHeads(remote)).get('dev')).toBe(head);
  });

  it('a branch whose name only ends like it (feature/dev) is not the branch (git-ls-remote(1) matches tails)', async () => {
    const { remote, work, runs } = repositories();
    git(work, 'push', '--quiet', 'origin', 'main:refs/heads/feature/dev');
    writeFileSync(join(work, 'code.txt'), 'newer\n');
    git(work, 'add', '.');
    git(work, 'commit', '--quiet', '-m', 'newer');
    const head = git(work, 'rev-parse', 'HEAD').trim();
    expect(await pushHead(work, remote, join(runs, '1', 'work'), 'dev')).toBe(head);
    expect((await remoteBranchHeads(remote)).get('dev')).toBe(head);
  });

  it("merges into a branch that moved on its own, the branch's side winning a conflict", async () => {
    const { remote, work, runs } = repositories();
    await pushHead(work, remote, join(runs, '1', 'work'), 'dev');
    // A GitOps commit on the branch (shipway promote) and new code in the checkout touch one line.
    const gitops = join(root, `gitops-${count}`);
    git(root, 'clone', '--quiet', '--branch', 'dev', remote, gitops);
    writeFileSync(join(gitops, 'image.txt'), 'image: pinned-by-dev\n');
    git(gitops, 'commit', '--quiet', '-am', 'dev: pin image');
    git(gitops, 'push', '--quiet', 'origin', 'dev');
    const pinned = git(gitops, 'rev-parse', 'HEAD').trim();
    writeFileSync(join(work, 'image.txt'), 'image: v2\n');
    writeFileSync(join(work, 'code.txt'), 'new code\n');
    git(work, 'add', '.');
    git(work, 'commit', '--quiet', '-m', 'second');
    const head = git(work, 'rev-parse', 'HEAD').trim();

    const sha = await pushHead(work, remote, join(runs, '2', 'work'), 'dev');

    expect((await remoteBranchHeads(remote)).get('dev')).toBe(sha);
    expect(git(remote, 'rev-list', '--parents', '-n', '1', sha).trim().split(' ').slice(1)).toEqual([pinned, head]);
    expect(git(remote, 'show', `${sha}:image.txt`)).toBe('image: pinned-by-dev\n');
    expect(git(remote, 'show', `${sha}:code.txt`)).toBe('new code\n');
    expect(git(remote, 'log', '-1', '--format=%cn <%ce>|%s', sha).trim()).toBe(
      `shipway pipeline <pipeline@shipway.local>|Merge ${head.slice(0, 8)} into dev`,
    );
  });

  it('reuses the clone of an earlier run and says which command failed', async () => {
    const { remote, work, runs } = repositories();
    const workspace = join(runs, '1', 'work');
    await pushHead(work, remote, workspace, 'dev');
    expect(await pushHead(work, remote, workspace, 'stage')).toBe(git(work, 'rev-parse', 'HEAD').trim());
    rmSync(remote, { recursive: true });
    await expect(pushHead(work, remote, workspace, 'prod')).rejects.toMatchObject({
      code: 'GIT_FAILED',
      message: expect.stringMatching(/^git (ls-remote|fetch|push) /),
    });
  });
});

describe('GitCheckout facts', () => {
  it('reads HEAD, its branch, the default branch and remotes of a clone', async () => {
    const { remote, work } = repositories();
    const clone = join(root, `clone-${count}`);
    git(root, 'clone', '--quiet', remote, clone);
    git(clone, 'checkout', '--quiet', '-b', 'feature');
    const checkout = new GitCheckout(clone);
    expect(await checkout.lastCommit()).toEqual({ sha: git(work, 'rev-parse', 'HEAD').trim(), message: 'first' });
    expect(await checkout.currentBranch()).toBe('feature');
    expect(await checkout.originDefaultBranch()).toBe('main');
    expect(await checkout.remoteUrl('origin')).toBe(remote);
    expect(await checkout.remoteUrl('upstream')).toBeUndefined();
  });

  it('answers undefined outside a repository', async () => {
    const plain = mkdtempSync(join(root, 'plain-'));
    const checkout = new GitCheckout(plain);
    expect(await checkout.lastCommit()).toBeUndefined();
    expect(await checkout.currentBranch()).toBeUndefined();
    expect(await checkout.originDefaultBranch()).toBeUndefined();
    expect(await checkout.remoteUrl('origin')).toBeUndefined();
  });
});

describe('initBareRepository', () => {
  it('makes a bare repository on main, and runs at the same moment (two `shipway run`s) all succeed', async () => {
    // git init takes the new config file's lock: runs at once collide on it unless the loser retries.
    for (let round = 0; round < 5; round++) {
      const path = join(root, 'stand-in', `project-${round}.git`);
      await Promise.all(Array.from({ length: 6 }, () => initBareRepository(path)));
      expect(git(path, 'rev-parse', '--is-bare-repository').trim()).toBe('true');
      expect(git(path, 'symbolic-ref', 'HEAD').trim()).toBe('refs/heads/main');
    }
  });

  it('says which path git could not initialise', async () => {
    const file = join(root, 'not-a-dir');
    writeFileSync(file, '');
    await expect(initBareRepository(join(file, 'x.git'))).rejects.toMatchObject({
      code: 'GIT_FAILED',
      message: expect.stringContaining(`git init ${join(file, 'x.git')}: `),
    });
  });
});
