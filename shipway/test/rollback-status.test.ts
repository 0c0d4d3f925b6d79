import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createGitFixture, DIGEST_A, DIGEST_B, DIGEST_C, type GitFixture } from './support/git-fixture.js';
import { shipway } from './support/run-shipway.js';

let fixture: GitFixture;
beforeEach(() => {
  fixture = createGitFixture();
});
afterEach(() => fixture.cleanup());

const image = (tag: string, digest: string) => `127.0.0.1:5000/hello:${tag}@${digest}`;
function pinned(branch: string, env: string): Record<string, string> | undefined {
  return parse(fixture.git(fixture.remote, 'show', `${branch}:deployment/${env}/kustomization.yaml`)).images[0];
}

describe('shipway rollback', () => {
  it('pins the image the environment had before its last promotion, as a new commit', async () => {
    await shipway(fixture.work, ['promote', 'dev', '--image', image('v1', DIGEST_A)]);
    await shipway(fixture.work, ['promote', 'dev', '--image', image('v2', DIGEST_B)]);
    const v1Commit = fixture.git(fixture.remote, 'rev-parse', 'dev~1').trim();
    const run = await shipway(fixture.work, ['rollback', 'dev']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      `rolled back dev: ${image('v2', DIGEST_B)} -> ${image('v1', DIGEST_A)} (image of ${v1Commit.slice(0, 12)})\n`,
    );
    expect(pinned('dev', 'dev')).toMatchObject({ newTag: 'v1', digest: DIGEST_A });
    const message = fixture.git(fixture.remote, 'log', '-1', '--format=%B', 'dev');
    expect(message.split('\n')[0]).toBe(`[skip ci] roll back hello in dev to v1@${DIGEST_A}`);
    expect(message).toContain(`Shipway-Source-Commit: ${v1Commit}`);
    // History is kept: the rollback is a new commit on top, not a rewrite.
    expect(Number(fixture.git(fixture.remote, 'rev-list', '--count', 'main..dev').trim())).toBe(3);
  });

  it('--to <digest> and --to <commit> restore that exact image', async () => {
    await shipway(fixture.work, ['promote', 'dev', '--image', image('v1', DIGEST_A)]);
    const v1Commit = fixture.git(fixture.remote, 'rev-parse', 'dev').trim();
    await shipway(fixture.work, ['promote', 'dev', '--image', image('v2', DIGEST_B)]);
    await shipway(fixture.work, ['promote', 'dev', '--image', image('v3', DIGEST_C)]);
    expect((await shipway(fixture.work, ['rollback', 'dev', '--to', DIGEST_B])).code).toBe(0);
    expect(pinned('dev', 'dev')).toMatchObject({ newTag: 'v2', digest: DIGEST_B });
    expect((await shipway(fixture.work, ['rollback', 'dev', '--to', v1Commit.slice(0, 10)])).code).toBe(0);
    expect(pinned('dev', 'dev')).toMatchObject({ newTag: 'v1', digest: DIGEST_A });
  });

  it('refuses (exit 4, nothing pushed) when there is nothing earlier or the target is unknown', async () => {
    await shipway(fixture.work, ['promote', 'dev', '--image', image('v1', DIGEST_A)]);
    const before = fixture.refs();
    const nothing = await shipway(fixture.work, ['rollback', 'dev']);
    expect(nothing.code).toBe(4);
    expect(nothing.stderr).toContain('dev has no earlier image than');
    const unknown = await shipway(fixture.work, ['rollback', 'dev', '--to', DIGEST_C]);
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toContain(`${DIGEST_C} is not an image or commit in the history`);
    expect(fixture.refs()).toBe(before);
  });
});

describe('shipway status', () => {
  it('--json reports branch, image, tag, digest, commit and promotedAt for every environment', async () => {
    await shipway(fixture.work, ['promote', 'dev', '--image', image('v1', DIGEST_A)]);
    await shipway(fixture.work, ['promote', 'stage', '--from', 'dev']);
    const run = await shipway(fixture.work, ['status', '--json']);
    expect(run.code).toBe(0);
    const { environments } = JSON.parse(run.stdout);
    const stageTip = fixture.git(fixture.remote, 'rev-parse', 'stage').trim();
    expect(environments.stage).toMatchObject({
      branch: 'stage',
      image: image('v1', DIGEST_A),
      tag: 'v1',
      digest: DIGEST_A,
      commit: stageTip,
      promotedFrom: 'dev',
    });
    expect(Date.parse(environments.stage.promotedAt)).toBeGreaterThan(Date.now() - 60_000);
    expect(environments.dev.digest).toBe(DIGEST_A);
    expect(environments.prod).toMatchObject({
      branch: 'prod',
      image: null,
      digest: null,
      commit: null,
      problem: 'branch prod does not exist yet',
    });
  });

  it('prints a table for people', async () => {
    await shipway(fixture.work, ['promote', 'dev', '--image', image('v1', DIGEST_A)]);
    const run = await shipway(fixture.work, ['status']);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ENV\s+BRANCH\s+TAG\s+DIGEST\s+COMMIT\s+PROMOTED$/);
    expect(lines[1]).toMatch(/^dev\s+dev\s+v1\s+sha256:aaaaaaaaaaaa…\s+[0-9a-f]{12}\s+\d{4}-/);
    expect(lines[3]).toMatch(/^prod\s+prod\s+-\s+-\s+-\s+branch prod does not exist yet$/);
  });
});
