import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createGitFixture, DIGEST_A, DIGEST_B, type GitFixture } from './support/git-fixture.js';
import { shipway } from './support/run-shipway.js';

let fixture: GitFixture;
beforeEach(() => {
  fixture = createGitFixture();
});
afterEach(() => fixture.cleanup());

function overlayOn(branch: string, env: string): { images: Record<string, string>[] } {
  return parse(fixture.git(fixture.remote, 'show', `${branch}:deployment/${env}/kustomization.yaml`));
}
function headMessage(branch: string): string {
  return fixture.git(fixture.remote, 'log', '-1', '--format=%B', branch);
}

describe('shipway promote --image', () => {
  it('pins the image on the environment branch as one [skip ci] commit with trailers', async () => {
    const run = await shipway(fixture.work, ['promote', 'dev', '--image', `127.0.0.1:5000/hello:1a2b3c4@${DIGEST_A}`], {
      CI_PIPELINE_ID: '4242',
      CI_COMMIT_SHA: 'f'.repeat(40),
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^promoted dev to 127\.0\.0\.1:5000\/hello:1a2b3c4@sha256:a{64} \(dev @ [0-9a-f]{12}\)\n$/,
    );
    expect(overlayOn('dev', 'dev').images).toEqual([
      { name: 'hello-service', newName: '127.0.0.1:5000/hello', newTag: '1a2b3c4', digest: DIGEST_A },
    ]);
    const message = headMessage('dev');
    expect(message.split('\n')[0]).toBe(`[skip ci] promote hello to dev: 1a2b3c4@${DIGEST_A}`);
    expect(message).toContain('Shipway-Environment: dev');
    expect(message).toContain(`Shipway-Digest: ${DIGEST_A}`);
    expect(message).toContain(`Shipway-Source-Commit: ${'f'.repeat(40)}`);
    expect(message).toContain('Shipway-Pipeline: 4242');
    // The new branch starts from the deployed commit: main plus exactly one promotion commit.
    expect(fixture.git(fixture.remote, 'rev-parse', 'dev~1').trim()).toBe(
      fixture.git(fixture.remote, 'rev-parse', 'main').trim(),
    );
    // Only the overlay changed; comments in it survive.
    expect(fixture.git(fixture.remote, 'diff', '--name-only', 'main', 'dev').trim()).toBe(
      'deployment/dev/kustomization.yaml',
    );
    expect(fixture.git(fixture.remote, 'show', 'dev:deployment/dev/kustomization.yaml')).toContain(
      '# The image is set by the pipeline',
    );
  });

  it('is idempotent: the same image again makes no commit and exits 0', async () => {
    const ref = `127.0.0.1:5000/hello:v1@${DIGEST_A}`;
    expect((await shipway(fixture.work, ['promote', 'dev', '--image', ref])).code).toBe(0);
    const before = fixture.refs();
    const again = await shipway(fixture.work, ['promote', 'dev', '--image', ref]);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(`dev already runs ${ref}; nothing to do\n`);
    expect(fixture.refs()).toBe(before);
  });

  it('quotes a number-like short SHA so kustomize still reads it as a string', async () => {
    expect((await shipway(fixture.work, ['promote', 'dev', '--image', '127.0.0.1:5000/hello:553640e6'])).code).toBe(0);
    const text = fixture.git(fixture.remote, 'show', 'dev:deployment/dev/kustomization.yaml');
    expect(text).toContain('newTag: "553640e6"');
    expect(overlayOn('dev', 'dev').images[0]?.newTag).toBe('553640e6');
  });

  it('--dry-run prints the plan and pushes nothing', async () => {
    const before = fixture.refs();
    const run = await shipway(fixture.work, [
      'promote',
      'dev',
      '--image',
      `127.0.0.1:5000/hello:v1@${DIGEST_A}`,
      '--dry-run',
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('would promote dev (dev): (none) -> 127.0.0.1:5000/hello:v1@');
    expect(run.stdout).toContain('newTag: v1');
    expect(fixture.refs()).toBe(before);
  });

  it('--dotenv hands the pinned image to later jobs (promote-prod --expect-digest reads it)', async () => {
    const run = await shipway(fixture.work, [
      'promote',
      'dev',
      '--image',
      `127.0.0.1:5000/hello:v1@${DIGEST_A}`,
      '--dotenv',
      'deploy.env',
    ]);
    expect(run.code).toBe(0);
    expect(readFileSync(join(fixture.work, 'deploy.env'), 'utf8')).toBe(
      `IMAGE_REPOSITORY=127.0.0.1:5000/hello\nIMAGE_TAG=v1\nIMAGE_DIGEST=${DIGEST_A}\nIMAGE_REF=127.0.0.1:5000/hello:v1@${DIGEST_A}\n`,
    );
  });

  it('--json prints the result as data', async () => {
    const run = await shipway(fixture.work, [
      'promote',
      'dev',
      '--image',
      `127.0.0.1:5000/hello:v1@${DIGEST_A}`,
      '--json',
    ]);
    expect(JSON.parse(run.stdout)).toMatchObject({
      environment: 'dev',
      status: 'promoted',
      tag: 'v1',
      digest: DIGEST_A,
    });
  });
});

describe('shipway promote --from', () => {
  it('copies the exact upstream entry (name, tag, digest) and names the source in trailers', async () => {
    await shipway(fixture.work, ['promote', 'dev', '--image', `127.0.0.1:5000/hello:v7@${DIGEST_B}`]);
    const devTip = fixture.git(fixture.remote, 'rev-parse', 'dev').trim();
    const run = await shipway(fixture.work, ['promote', 'stage', '--from', 'dev']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('promoted stage from dev to 127.0.0.1:5000/hello:v7@');
    expect(overlayOn('stage', 'stage').images).toEqual(overlayOn('dev', 'dev').images);
    const message = headMessage('stage');
    expect(message).toContain('Shipway-Source-Environment: dev');
    expect(message).toContain(`Shipway-Source-Commit: ${devTip}`);
  });

  it("without --from, copies from the environment's from: in shipway.yaml (the component's one deploy job relies on it)", async () => {
    await shipway(fixture.work, ['promote', 'dev', '--image', `127.0.0.1:5000/hello:v7@${DIGEST_B}`]);
    const run = await shipway(fixture.work, ['promote', 'stage']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('promoted stage from dev to 127.0.0.1:5000/hello:v7@');
    expect(overlayOn('stage', 'stage').images).toEqual(overlayOn('dev', 'dev').images);
    expect(headMessage('stage')).toContain('Shipway-Source-Environment: dev');
  });

  it("prod needs its manual gate opened, then takes stage's digest", async () => {
    await shipway(fixture.work, ['promote', 'dev', '--image', `127.0.0.1:5000/hello:v1@${DIGEST_A}`]);
    await shipway(fixture.work, ['promote', 'stage', '--from', 'dev']);
    const refused = await shipway(fixture.work, ['promote', 'prod', '--from', 'stage']);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(
      /^shipway: prod has a manual gate and this promotion was not approved\n {2}hint: pass --approve/,
    );
    expect(fixture.git(fixture.remote, 'branch', '--list', 'prod').trim()).toBe('');
    const manualJob = await shipway(fixture.work, ['promote', 'prod', '--from', 'stage'], { CI_JOB_MANUAL: 'true' });
    expect(manualJob.code).toBe(0);
    expect(overlayOn('prod', 'prod').images[0]?.digest).toBe(DIGEST_A);
  });
});

describe('refusals change nothing (exit 4)', () => {
  it('refuses --from an environment that has no image yet', async () => {
    const before = fixture.refs();
    const run = await shipway(fixture.work, ['promote', 'stage', '--from', 'dev']);
    expect(run.code).toBe(4);
    expect(run.stderr).toContain('shipway: dev has no hello-service image on branch dev yet');
    expect(fixture.refs()).toBe(before);
  });

  it('refuses --from an environment that is not the upstream', async () => {
    await shipway(fixture.work, ['promote', 'dev', '--image', `127.0.0.1:5000/hello:v1@${DIGEST_A}`]);
    const before = fixture.refs();
    const run = await shipway(fixture.work, ['promote', 'prod', '--from', 'dev', '--approve']);
    expect(run.code).toBe(4);
    expect(run.stderr).toContain('prod is promoted from stage, not from dev');
    expect(run.stderr).toContain('hint: use --from stage');
    expect(fixture.refs()).toBe(before);
  });
});

describe('bad input: exit 2, one line, nothing pushed', () => {
  const cases: [string, string[], RegExp][] = [
    [
      'unknown environment',
      ['promote', 'qa', '--image', 'r/hello:v1'],
      /^shipway: unknown environment "qa"\n {2}hint: shipway.yaml defines dev, stage, prod\n$/,
    ],
    [
      'invalid image reference',
      ['promote', 'dev', '--image', 'Bad Image!:x'],
      /^shipway: invalid image reference "Bad Image!:x": bad repository/,
    ],
    [
      'bad digest',
      ['promote', 'dev', '--image', 'r/hello@sha256:123'],
      /^shipway: invalid image reference "r\/hello@sha256:123": bad digest/,
    ],
    [
      'both --image and --from',
      ['promote', 'dev', '--image', 'r/hello:v1', '--from', 'dev'],
      /takes --image <ref> or --from <env>, not both/,
    ],
    [
      'neither --image nor --from, and no from: in shipway.yaml',
      ['promote', 'dev'],
      /^shipway: promote dev needs --image <ref> or --from <env>\n {2}hint: dev has no from: in shipway.yaml/,
    ],
  ];
  it.each(cases)('%s', async (_name, argv, message) => {
    const before = fixture.refs();
    const run = await shipway(fixture.work, argv);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe('');
    expect(fixture.refs()).toBe(before);
  });

  it('a missing overlay', async () => {
    fixture.git(fixture.work, 'rm', '--quiet', '-r', 'deployment/stage');
    fixture.git(fixture.work, 'commit', '--quiet', '-m', 'drop stage overlay');
    fixture.git(fixture.work, 'push', '--quiet', 'origin', 'main');
    const before = fixture.refs();
    const run = await shipway(fixture.work, ['promote', 'stage', '--image', 'r/hello:v1']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^shipway: no kustomization in deployment\/stage on branch stage\n/);
    expect(fixture.refs()).toBe(before);
  });

  it('a malformed kustomization.yaml on the branch', async () => {
    await shipway(fixture.work, ['promote', 'dev', '--image', `127.0.0.1:5000/hello:v1@${DIGEST_A}`]);
    fixture.git(fixture.work, 'fetch', '--quiet', 'origin', 'dev');
    fixture.git(fixture.work, 'checkout', '--quiet', '-b', 'dev', 'FETCH_HEAD');
    const file = join(fixture.work, 'deployment/dev/kustomization.yaml');
    const text = readFileSync(file, 'utf8').replace('images:', 'images: {broken: [}');
    (await import('node:fs')).writeFileSync(file, text);
    fixture.git(fixture.work, 'commit', '--quiet', '-am', 'break it');
    fixture.git(fixture.work, 'push', '--quiet', 'origin', 'dev');
    const before = fixture.refs();
    const run = await shipway(fixture.work, ['promote', 'dev', '--image', 'r/hello:v2']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^shipway: deployment\/dev\/kustomization.yaml on dev is not valid YAML/);
    expect(fixture.refs()).toBe(before);
  });

  it('an invalid shipway.yaml lists every problem with its path', async () => {
    const broken = readFileSync(join(fixture.work, 'shipway.yaml'), 'utf8')
      .replace('app: hello', 'app: Hello_App')
      .replace('gate: manual', 'gate: sometimes')
      .replace('from: stage', 'from: qa')
      .replace('  remote: origin', '  remote: origin\n  colour: blue');
    (await import('node:fs')).writeFileSync(join(fixture.work, 'shipway.yaml'), broken);
    const before = fixture.refs();
    const run = await shipway(fixture.work, ['promote', 'dev', '--image', 'r/hello:v1']);
    expect(run.code).toBe(2);
    const lines = run.stderr.split('\n');
    expect(lines[0]).toBe('shipway: shipway.yaml is invalid (3 problems)');
    expect(run.stderr).toContain('  - app: must be a DNS label');
    expect(run.stderr).toContain('  - environments.2.gate: Invalid option: expected one of "auto"|"manual"');
    expect(run.stderr).toMatch(/ {2}- git: Unrecognized key: "colour"/);
    expect(fixture.refs()).toBe(before);
  });
});
