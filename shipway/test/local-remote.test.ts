import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recordCheckoutStack } from '../src/app/checkout-stack.js';
import { FakeKubeApi } from './support/fake-kube-api.js';
import { createGitFixture, DIGEST_A, DIGEST_B, type GitFixture } from './support/git-fixture.js';
import { CANARY_DIGEST, rolloutObject, STABLE_DIGEST, stableReplicaSet } from './support/rollout-fixture.js';
import { shipway } from './support/run-shipway.js';

// The rule of core/config/choose-git-remote.ts, through the CLI: after `shipway run` recorded the
// local stack's GitLab stand-in in a checkout (.shipway/local-stack.json, written here as the run
// writes it), status, promote, rollback and rollout abort's revert use that stand-in outside CI,
// say so on stderr, and leave origin alone; in CI, or with --remote / SHIPWAY_GIT_REMOTE, not.
let fixture: GitFixture;
let standIn: string;
let home: string;

beforeEach(async () => {
  fixture = createGitFixture();
  home = join(fixture.root, 'home');
  standIn = join(home, 'gitlab', 'hello-0123456789ab.git');
  fixture.git(fixture.root, 'init', '--quiet', '--bare', '--initial-branch=main', standIn);
  fixture.git(fixture.work, 'push', '--quiet', standIn, 'main');
  await recordCheckoutStack(fixture.work, { remote: standIn, app: 'hello', home });
});
afterEach(() => fixture.cleanup());

const image = (digest: string) => `127.0.0.1:5000/hello:v@${digest}`;
const pinned = (remote: string, env: string) =>
  fixture.git(remote, 'show', `${env}:deployment/${env}/kustomization.yaml`).match(/digest: (sha256:\w+)/)?.[1];
const branches = (remote: string) => fixture.git(remote, 'for-each-ref', '--format=%(refname:short)', 'refs/heads');
const STAND_IN_NOTE =
  /^git remote: .*hello-0123456789ab\.git \(the local stack's GitLab stand-in that `shipway run` pushed to; --remote origin reads origin\)$/m;

describe('outside CI, after `shipway run` in the checkout', () => {
  it('promote, status and rollback address the GitLab stand-in the run pushed to, say so on stderr, and leave origin alone', async () => {
    const origin = fixture.refs();
    const first = await shipway(fixture.work, ['promote', 'dev', '--image', image(DIGEST_A)]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(STAND_IN_NOTE);
    expect((await shipway(fixture.work, ['promote', 'dev', '--image', image(DIGEST_B)])).code).toBe(0);
    expect(pinned(standIn, 'dev')).toBe(DIGEST_B);

    const status = await shipway(fixture.work, ['status', '--json']);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stderr).toMatch(STAND_IN_NOTE);
    expect(JSON.parse(status.stdout).environments.dev).toMatchObject({ digest: DIGEST_B, problem: null });

    const rollback = await shipway(fixture.work, ['rollback', 'dev']);
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(rollback.stderr).toMatch(STAND_IN_NOTE);
    expect(pinned(standIn, 'dev')).toBe(DIGEST_A);
    expect(fixture.refs()).toBe(origin);
  });

  it('rollout abort reverts Git on the stand-in, and finds the cluster by the local stack kubeconfig (SHIPWAY_HOME)', async () => {
    const api = new FakeKubeApi();
    await api.start();
    try {
      mkdirSync(join(home, 'cluster'), { recursive: true });
      writeFileSync(join(home, 'cluster', 'kubeconfig'), api.kubeconfig());
      api.replicaSets.push(stableReplicaSet());
      for (const digest of [STABLE_DIGEST, CANARY_DIGEST])
        await shipway(fixture.work, ['promote', 'prod', '--approve', '--image', `127.0.0.1:5000/hello:v@${digest}`]);
      api.put(rolloutObject({ currentStepIndex: 1, controllerPause: true }));
      const origin = fixture.refs();
      // No --kubeconfig, KUBECONFIG or KUBE_CONFIG: the local stack's cluster in SHIPWAY_HOME.
      const aborted = await shipway(fixture.work, ['rollout', 'abort', 'prod'], { SHIPWAY_HOME: home });
      expect(aborted.code, aborted.stderr).toBe(0);
      expect(aborted.stderr).toMatch(STAND_IN_NOTE);
      expect(pinned(standIn, 'prod')).toBe(STABLE_DIGEST);
      expect(fixture.refs()).toBe(origin);
    } finally {
      await api.stop();
    }
  });
});

describe('what the checkout record does not change', () => {
  it.each([
    ['CI=true (any CI)', { CI: 'true' }],
    ['GITLAB_CI=true', { GITLAB_CI: 'true' }],
  ])('in CI (%s), the remote is shipway.yaml git.remote, as before', async (_name, env) => {
    const promoted = await shipway(fixture.work, ['promote', 'dev', '--image', image(DIGEST_A)], env);
    expect(promoted.code, promoted.stderr).toBe(0);
    expect(promoted.stderr).toBe('');
    expect(pinned(fixture.remote, 'dev')).toBe(DIGEST_A);
    expect(branches(standIn)).toBe('main\n');
  });

  it('--remote and SHIPWAY_GIT_REMOTE name the remote, in CI and out of it, and say so', async () => {
    const flag = await shipway(fixture.work, ['promote', 'dev', '--remote', 'origin', '--image', image(DIGEST_A)]);
    expect(flag.code, flag.stderr).toBe(0);
    expect(flag.stderr).toMatch(/^git remote: .*remote\.git \(from --remote\)$/m);
    expect(pinned(fixture.remote, 'dev')).toBe(DIGEST_A);
    const fromEnv = await shipway(fixture.work, ['promote', 'dev', '--image', image(DIGEST_B)], {
      CI: 'true',
      SHIPWAY_GIT_REMOTE: standIn,
    });
    expect(fromEnv.code, fromEnv.stderr).toBe(0);
    expect(fromEnv.stderr).toMatch(/^git remote: .* \(from SHIPWAY_GIT_REMOTE\)$/m);
    expect(pinned(standIn, 'dev')).toBe(DIGEST_B);
    const status = await shipway(fixture.work, ['status', '--json', '--remote', 'origin']);
    expect(JSON.parse(status.stdout).environments.dev.digest).toBe(DIGEST_A);
  });

  it('a git.remote other than the default `origin` is what the user chose: kept', async () => {
    const config = join(fixture.work, 'shipway.yaml');
    fixture.git(fixture.work, 'config', 'remote.gitops.url', fixture.remote);
    const text = fixture.git(fixture.work, 'show', 'HEAD:shipway.yaml').replace('remote: origin', 'remote: gitops');
    writeFileSync(config, text);
    const promoted = await shipway(fixture.work, ['promote', 'dev', '--image', image(DIGEST_A)]);
    expect(promoted.code, promoted.stderr).toBe(0);
    expect(promoted.stderr).toBe('');
    expect(pinned(fixture.remote, 'dev')).toBe(DIGEST_A);
  });

  it('a stand-in that is gone (SHIPWAY_HOME wiped): a note, and origin', async () => {
    rmSync(home, { recursive: true, force: true });
    const promoted = await shipway(fixture.work, ['promote', 'dev', '--image', image(DIGEST_A)]);
    expect(promoted.code, promoted.stderr).toBe(0);
    expect(promoted.stderr).toMatch(/^note: the local stack's GitLab stand-in .* is gone; using origin$/m);
    expect(pinned(fixture.remote, 'dev')).toBe(DIGEST_A);
  });
});

describe("the rollout commands' kubeconfig", () => {
  it("is the local stack's (SHIPWAY_HOME/cluster/kubeconfig), no longer <checkout>/.shipway/cluster/kubeconfig", async () => {
    const api = new FakeKubeApi();
    await api.start();
    try {
      api.put(rolloutObject({ phase: 'Healthy' }));
      mkdirSync(join(fixture.work, '.shipway', 'cluster'), { recursive: true });
      writeFileSync(join(fixture.work, '.shipway', 'cluster', 'kubeconfig'), api.kubeconfig());
      const old = await shipway(fixture.work, ['rollout', 'status', 'prod'], { SHIPWAY_HOME: home });
      expect(old.code).toBe(2);
      expect(old.stderr).toContain(`its kubeconfig: ${join(home, 'cluster', 'kubeconfig')}`);
      mkdirSync(join(home, 'cluster'), { recursive: true });
      writeFileSync(join(home, 'cluster', 'kubeconfig'), api.kubeconfig());
      const found = await shipway(fixture.work, ['rollout', 'status', 'prod', '--json'], { SHIPWAY_HOME: home });
      expect(found.code, found.stderr).toBe(0);
      expect(JSON.parse(found.stdout)).toMatchObject({ name: 'hello', namespace: 'hello-prod' });
    } finally {
      await api.stop();
    }
  });
});
