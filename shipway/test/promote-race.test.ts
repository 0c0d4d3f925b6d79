import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createGitFixture, digestOf, type GitFixture } from './support/git-fixture.js';
import { type ShipwayRun, shipwayProcess } from './support/run-shipway.js';

// Eight `shipway promote` processes started at once against one bare remote, as eight pipelines
// finishing together would: three to dev, three to stage, two to prod.
const PLAN: readonly { env: string; image: string }[] = [
  ...[1, 2, 3].map((n) => ({ env: 'dev', image: `127.0.0.1:5000/hello:dev-${n}@${digestOf(n)}` })),
  ...[4, 5, 6].map((n) => ({ env: 'stage', image: `127.0.0.1:5000/hello:stage-${n}@${digestOf(n)}` })),
  ...[7, 8].map((n) => ({ env: 'prod', image: `127.0.0.1:5000/hello:prod-${n}@${digestOf(n)}` })),
];

describe('concurrent promotions', () => {
  let fixture: GitFixture;
  let runs: ShipwayRun[];
  beforeAll(async () => {
    fixture = createGitFixture();
    runs = await Promise.all(
      PLAN.map(({ env, image }) => shipwayProcess(fixture.work, ['promote', env, '--image', image, '--approve'])),
    );
  }, 120_000);
  afterAll(() => fixture.cleanup());

  it('all finish successfully', () => {
    for (const run of runs) expect(run, run.stderr).toMatchObject({ code: 0 });
  });

  it.each(['dev', 'stage', 'prod'])('%s: no update is lost, history is linear, the last writer wins', (env) => {
    const wanted = PLAN.filter((entry) => entry.env === env).map((entry) => entry.image);
    const commits = fixture.git(fixture.remote, 'rev-list', `main..${env}`).trim().split('\n');
    expect(commits).toHaveLength(wanted.length);
    expect(fixture.git(fixture.remote, 'rev-list', '--min-parents=2', env).trim()).toBe('');
    const written = commits.map((commit) => {
      const message = fixture.git(fixture.remote, 'log', '-1', '--format=%B', commit);
      return /^Shipway-Image: (.+)$/m.exec(message)?.[1];
    });
    expect(written.slice().sort()).toEqual(wanted.slice().sort());
    // The overlay holds the image of the newest commit, the last push to land.
    const overlay = parse(fixture.git(fixture.remote, 'show', `${env}:deployment/${env}/kustomization.yaml`));
    const pinned = overlay.images[0];
    expect(`${pinned.newName}:${pinned.newTag}@${pinned.digest}`).toBe(written[0]);
  });

  it('contention was real: at least one promotion had to retry', () => {
    expect(runs.some((run) => run.stderr.includes('moved while promoting; retrying'))).toBe(true);
  });
});
