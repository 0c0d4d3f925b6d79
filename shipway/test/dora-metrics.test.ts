import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rollback } from '../src/app/rollback.js';
import { createGitFixture, digestOf, type GitFixture } from './support/git-fixture.js';
import { shipway } from './support/run-shipway.js';

// DORA's four keys (dora.dev/research) from a GitOps history built here with known dates: real
// `shipway promote` / `rollback` commits (GIT_COMMITTER_DATE fixes their times), code commits on
// main that the images were "built" from (CI_COMMIT_SHA), an abort's revert (Shipway-Cause:
// abort) and recorded rollout events. Every expected figure is worked out by hand below.
let fixture: GitFixture;
const A = digestOf(0xa);
const B = digestOf(0xb);
const C = digestOf(0xc);
const D0 = digestOf(0xd0);
const image = (tag: string, digest: string) => `127.0.0.1:5000/hello:${tag}@${digest}`;

function at(iso: string): void {
  process.env.GIT_COMMITTER_DATE = iso;
  process.env.GIT_AUTHOR_DATE = iso;
}

function codeCommit(iso: string, name: string): string {
  at(iso);
  writeFileSync(join(fixture.work, `${name}.txt`), name);
  fixture.git(fixture.work, 'add', '-A');
  fixture.git(fixture.work, 'commit', '--quiet', '-m', `code ${name}`);
  fixture.git(fixture.work, 'push', '--quiet', 'origin', 'main');
  return fixture.git(fixture.work, 'rev-parse', 'HEAD').trim();
}

async function run(iso: string, argv: string[], env: Record<string, string> = {}): Promise<void> {
  at(iso);
  const result = await shipway(fixture.work, argv, env);
  if (result.code !== 0) throw new Error(`${argv.join(' ')}: ${result.stderr}`);
}

/** dev --image (built from `code`), then stage and prod --from upstream, at the given times. */
async function release(tag: string, digest: string, code: string, times: [string, string, string]): Promise<void> {
  await run(times[0], ['promote', 'dev', '--image', image(tag, digest)], { CI_COMMIT_SHA: code });
  await run(times[1], ['promote', 'stage', '--from', 'dev']);
  await run(times[2], ['promote', 'prod', '--from', 'stage', '--approve']);
}

beforeAll(async () => {
  fixture = createGitFixture();
  const saved = { committer: process.env.GIT_COMMITTER_DATE, author: process.env.GIT_AUTHOR_DATE };
  try {
    // Before the window: a dev-only release (must not be counted).
    const c0 = codeCommit('2024-02-24T00:00:00Z', 'c0');
    await run('2024-02-25T00:00:00Z', ['promote', 'dev', '--image', image('v0', D0)], { CI_COMMIT_SHA: c0 });
    const c1 = codeCommit('2024-03-01T00:00:00Z', 'c1');
    await release('v1', A, c1, ['2024-03-01T02:00:00Z', '2024-03-01T04:00:00Z', '2024-03-01T08:00:00Z']);
    const c2 = codeCommit('2024-03-10T00:00:00Z', 'c2');
    await release('v2', B, c2, ['2024-03-10T01:00:00Z', '2024-03-10T02:00:00Z', '2024-03-10T06:00:00Z']);
    // v2's canary is aborted at 07:00 and Git pins A again (what `rollout abort` does after aborting).
    at('2024-03-10T07:00:00Z');
    await rollback({ cwd: fixture.work, env: {}, progress: () => {} }, { environment: 'prod', to: A, cause: 'abort' });
    const c3 = codeCommit('2024-03-20T00:00:00Z', 'c3');
    await release('v3', C, c3, ['2024-03-20T03:00:00Z', '2024-03-20T04:00:00Z', '2024-03-20T12:00:00Z']);
    // v3 is rolled back by hand the next day.
    await run('2024-03-21T00:00:00Z', ['rollback', 'prod']);
  } finally {
    for (const [key, value] of [
      ['GIT_COMMITTER_DATE', saved.committer],
      ['GIT_AUTHOR_DATE', saved.author],
    ] as const)
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
  }
  // What the dashboard's Rollout watch recorded: prod Healthy again 30 min after the abort and
  // 1 h after the rollback.
  mkdirSync(join(fixture.work, '.shipway', 'dashboard'), { recursive: true });
  const events = [
    { at: '2024-03-10T06:30:00Z', environment: 'prod', phase: 'Paused', digest: B, aborted: false },
    { at: '2024-03-10T07:00:05Z', environment: 'prod', phase: 'Degraded', digest: B, aborted: true },
    { at: '2024-03-10T07:30:00Z', environment: 'prod', phase: 'Healthy', digest: A, aborted: false },
    { at: '2024-03-20T12:10:00Z', environment: 'prod', phase: 'Healthy', digest: C, aborted: false },
    { at: '2024-03-21T01:00:00Z', environment: 'prod', phase: 'Healthy', digest: A, aborted: false },
  ];
  writeFileSync(
    join(fixture.work, '.shipway', 'dashboard', 'rollout-events.jsonl'),
    `${events.map((event) => JSON.stringify({ app: 'hello', ...event })).join('\n')}\n`,
  );
}, 120_000);

afterAll(() => fixture?.cleanup());

describe('shipway metrics: DORA figures from Git history and rollout events (dora.dev/research definitions)', () => {
  it('computes deployment frequency, lead time, change failure rate and time to restore as worked out by hand', async () => {
    const result = await shipway(fixture.work, [
      'metrics',
      '--json',
      '--days',
      '30',
      '--until',
      '2024-03-31T00:00:00Z',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const metrics = JSON.parse(result.stdout);
    // Window: 2024-03-01T00:00Z .. 2024-03-31T00:00Z, 30 days.
    expect(metrics.window).toEqual({ start: '2024-03-01T00:00:00.000Z', end: '2024-03-31T00:00:00.000Z', days: 30 });
    // Deployments = promote commits in the window (v0 on 02-25 is outside; rollbacks and the
    // abort revert are not deployments): dev v1, v2, v3 = 3 → 3 / 30 = 0.1 per day; same for
    // stage and prod.
    expect(metrics.deploymentFrequency).toEqual([
      { environment: 'dev', deployments: 3, perDay: 0.1 },
      { environment: 'stage', deployments: 3, perDay: 0.1 },
      { environment: 'prod', deployments: 3, perDay: 0.1 },
    ]);
    // Lead time = prod promotion − committer time of the commit dev's --image promotion names:
    // v1: 03-01 08:00 − 03-01 00:00 = 8 h = 28,800 s
    // v2: 03-10 06:00 − 03-10 00:00 = 6 h = 21,600 s
    // v3: 03-20 12:00 − 03-20 00:00 = 12 h = 43,200 s
    // median = 28,800 s; mean = (28,800 + 21,600 + 43,200) / 3 = 93,600 / 3 = 31,200 s.
    expect(metrics.leadTime).toMatchObject({ samples: 3, unknown: 0, medianSeconds: 28_800, meanSeconds: 31_200 });
    expect(metrics.leadTime.releases.map((entry: { seconds: number }) => entry.seconds)).toEqual([
      28_800, 21_600, 43_200,
    ]);
    // Change failure rate: of the 3 prod releases, v2 (aborted; its revert names B as the previous
    // digest) and v3 (rolled back) failed → 2 / 3.
    expect(metrics.changeFailureRate).toEqual({ releases: 3, failed: 2, ratio: 2 / 3 });
    // Time to restore = first recorded prod Healthy at or after the failure:
    // v2: failure at 07:00:00 (the revert commit; the recorded abort at 07:00:05 is later),
    //     Healthy at 07:30:00 → 1,800 s
    // v3: rollback at 03-21 00:00, Healthy at 01:00 → 3,600 s
    // median = (1,800 + 3,600) / 2 = 2,700 s; mean the same.
    expect(metrics.timeToRestore).toMatchObject({ samples: 2, unknown: 0, medianSeconds: 2_700, meanSeconds: 2_700 });
    expect(
      metrics.timeToRestore.failures.map((entry: { digest: string; seconds: number }) => [entry.digest, entry.seconds]),
    ).toEqual([
      [B, 1_800],
      [C, 3_600],
    ]);
  });

  it('a narrower window counts only what falls in it (the last 15 days: v3 alone)', async () => {
    const result = await shipway(fixture.work, [
      'metrics',
      '--json',
      '--days',
      '15',
      '--until',
      '2024-03-31T00:00:00Z',
    ]);
    const metrics = JSON.parse(result.stdout);
    // Window 03-16 .. 03-31: prod v3 only → 1 deployment / 15 days; lead 43,200 s; 1 of 1 failed; TTR 3,600 s.
    expect(metrics.deploymentFrequency[2]).toEqual({ environment: 'prod', deployments: 1, perDay: 1 / 15 });
    expect(metrics.leadTime.medianSeconds).toBe(43_200);
    expect(metrics.changeFailureRate).toEqual({ releases: 1, failed: 1, ratio: 1 });
    expect(metrics.timeToRestore.medianSeconds).toBe(3_600);
  });

  it('without recorded rollout events the restore times are unknown, not invented', async () => {
    writeFileSync(join(fixture.work, '.shipway', 'dashboard', 'rollout-events.jsonl'), '');
    const result = await shipway(fixture.work, [
      'metrics',
      '--json',
      '--days',
      '30',
      '--until',
      '2024-03-31T00:00:00Z',
    ]);
    const metrics = JSON.parse(result.stdout);
    expect(metrics.changeFailureRate.failed).toBe(2);
    expect(metrics.timeToRestore).toMatchObject({ samples: 0, unknown: 2, medianSeconds: null });
    const text = await shipway(fixture.work, ['metrics', '--days', '30', '--until', '2024-03-31T00:00:00Z']);
    expect(text.stdout).toContain('change failure rate: 66.7 % (2 of 3 releases)');
    expect(text.stdout).toContain('lead time for changes (prod): median 8.00 h');
  });
});
