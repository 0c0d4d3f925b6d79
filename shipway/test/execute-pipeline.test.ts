import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { logName } from '../src/app/execute-pipeline.js';
import type { PipelineRecord, RunPipelineOptions } from '../src/app/pipeline-run-model.js';
import { git } from './support/git-fixture.js';
import { executeFixture, type FixturePipeline } from './support/pipeline-fixture.js';

// The job loop of `shipway run` (app/execute-pipeline.ts) on a real clone with real shell jobs,
// without the local stack: manual jobs (GitLab: `when: manual`, docs/ci/jobs/job_control.md),
// --yes never approving a rollback (declared with SHIPWAY_ACTION, core/pipeline/job-intent.ts), and a dotenv report (artifacts:reports:dotenv) handed on.
const CI = `stages: [build, deploy, undo]
build:
  stage: build
  script: ['echo IMAGE=v1 > build.env']
  artifacts:
    reports:
      dotenv: build.env
deploy:
  stage: deploy
  when: manual
  script: ['echo "deploying $IMAGE"']
rollback:
  stage: undo
  when: manual
  variables:
    SHIPWAY_ACTION: rollback
  script: ['echo rolling back']
`;

const root = mkdtempSync(join(tmpdir(), 'shipway-execute-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const project = join(root, 'project');
git(root, 'init', '--quiet', '--initial-branch=main', project);
writeFileSync(join(project, '.gitlab-ci.yml'), CI);
git(project, 'add', '-A');
git(project, 'commit', '--quiet', '-m', 'initial');

/** The last pipeline's directory: its logs and pipeline.json. */
let last = '';
async function execute(
  options: Partial<RunPipelineOptions>,
  from: Partial<Omit<FixturePipeline, 'root' | 'caches' | 'pinned'>> = {},
) {
  const run = await executeFixture(
    {
      ...{ root, repository: project, ref: 'main', caches: join(root, 'caches') },
      pinned: ['deployment/stage/kustomization.yaml'],
      ...from,
    },
    options,
  );
  last = run.dir;
  return run;
}

const statuses = (record: PipelineRecord) => Object.fromEntries(record.jobs.map((job) => [job.name, job.status]));

describe('executePipeline', () => {
  it('--yes runs the manual deploy with the dotenv of build, and leaves the rollback waiting', async () => {
    const { record, events } = await execute({ yes: true });
    expect(statuses(record)).toEqual({ build: 'success', deploy: 'success', rollback: 'manual' });
    expect(readFileSync(join(last, logName('deploy')), 'utf8')).toContain('deploying v1');
    const order = events.flatMap((event) => (event.kind === 'job' ? [`${event.job}:${event.status}`] : []));
    expect(order).toEqual(['build:running', 'build:success', 'deploy:running', 'deploy:success', 'rollback:manual']);
    const file = JSON.parse(readFileSync(join(last, 'pipeline.json'), 'utf8'));
    expect(file.jobs.map((job: { status: string }) => job.status)).toEqual(['success', 'success', 'manual']);
  }, 60_000);

  it('without --yes a manual job runs only when the person asked says so', async () => {
    const asked: string[] = [];
    const ask = async (job: { name: string }, ref: string) => {
      asked.push(`${job.name}@${ref}`);
      return job.name === 'deploy';
    };
    const { record } = await execute({ ask });
    expect(asked).toEqual(['deploy@main', 'rollback@main']);
    expect(statuses(record)).toEqual({ build: 'success', deploy: 'success', rollback: 'manual' });
  }, 60_000);

  it("a checkout that fails fails the job before its script, as GitLab Runner's get_sources does", async () => {
    // git cannot take the index lock, so `git checkout` fails.
    const { record } = await execute(
      { yes: true },
      { prepare: (workspace) => writeFileSync(join(workspace, '.git/index.lock'), '') },
    );
    expect(statuses(record)).toEqual({ build: 'failed', deploy: 'skipped', rollback: 'skipped' });
    const log = readFileSync(join(last, logName('build')), 'utf8');
    expect(log).toMatch(/^ERROR: Job failed: getting the sources failed: git checkout .*index\.lock/m);
    expect(existsSync(join(last, 'work', 'build.env'))).toBe(false);
  }, 60_000);

  it('--approve names a rollback that --yes would not run', async () => {
    const { record } = await execute({ yes: true, approve: ['rollback'] });
    expect(statuses(record)).toEqual({ build: 'success', deploy: 'success', rollback: 'success' });
    expect(readFileSync(join(last, logName('rollback')), 'utf8')).toContain('rolling back');
  }, 60_000);
});

// SHIPWAY_REUSE: tree (core/pipeline/job-intent.ts, core/runner/result-key.ts): a job's success is
// kept in the project's caches and a later pipeline with the same tree, job and variables reuses
// it, artifacts and dotenv report included. GitLab itself runs every job (docs/ci/pipelines); this
// is `shipway run`'s own cache, like Nx's or Turborepo's task cache, and only for jobs that ask.
describe('executePipeline: SHIPWAY_REUSE: tree', () => {
  const reuseProject = join(root, 'reuse-project');
  const ran = join(root, 'ran.log');
  const failFlag = join(root, 'fail-build');
  const ciText = `stages: [build, deploy]
variables:
  # Names the checkout: different in every pipeline, the same once it stands for CI_PROJECT_DIR.
  TOOL_CACHE: $CI_PROJECT_DIR/.cache
build:
  stage: build
  variables:
    SHIPWAY_REUSE: tree
  script:
    - test ! -e ${failFlag}
    - echo "build $CI_COMMIT_BRANCH $FLAVOUR" >> ${ran}
    - mkdir -p out && echo "built from $(cat src.txt)" > out/app.txt
    - echo IMAGE=v-$(cat src.txt) > build.env
  artifacts:
    paths: [out/]
    reports:
      dotenv: build.env
deploy:
  stage: deploy
  script:
    - echo "deploy $CI_COMMIT_BRANCH" >> ${ran}
    - cat out/app.txt
    - echo "deploying $IMAGE"
`;
  git(root, 'init', '--quiet', '--initial-branch=main', reuseProject);
  writeFileSync(join(reuseProject, '.gitlab-ci.yml'), ciText);
  writeFileSync(join(reuseProject, 'src.txt'), 'one\n');
  git(reuseProject, 'add', '-A');
  git(reuseProject, 'commit', '--quiet', '-m', 'one');

  const runLines = () => readFileSync(ran, 'utf8').trim().split('\n');
  const log = (job: string) => readFileSync(join(last, logName(job)), 'utf8');
  const reuse = (options: Partial<RunPipelineOptions>, ref: string, checkout?: string) =>
    execute({ yes: true, ...options }, { repository: reuseProject, ref, ...(checkout ? { checkout } : {}) });
  const jobOf = (record: PipelineRecord, name: string) => record.jobs.find((job) => job.name === name);

  it('stage reuses the build dev ran on the same tree: no run, its artifacts and dotenv reach deploy', async () => {
    const dev = await reuse({}, 'dev');
    expect(statuses(dev.record)).toEqual({ build: 'success', deploy: 'success' });
    expect(jobOf(dev.record, 'build')?.reused).toBeUndefined();
    const stage = await reuse({}, 'stage');
    expect(statuses(stage.record)).toEqual({ build: 'success', deploy: 'success' });
    expect(jobOf(stage.record, 'build')?.reused).toEqual({ pipeline: dev.record.id, ref: 'dev' });
    // The build ran once; deploy (no SHIPWAY_REUSE) ran in both pipelines.
    expect(runLines()).toEqual(['build dev ', 'deploy dev', 'deploy stage']);
    expect(log('build')).toMatch(new RegExp(`Reusing the result of build from pipeline #${dev.record.id} \\(dev, `));
    expect(log('deploy')).toContain('built from one');
    expect(log('deploy')).toContain('deploying v-one');
    const event = stage.events.find((e) => e.kind === 'job' && e.job === 'build' && e.status === 'success');
    expect(event).toMatchObject({ reused: { pipeline: dev.record.id, ref: 'dev' } });
    const file = JSON.parse(readFileSync(join(last, 'pipeline.json'), 'utf8'));
    expect(file.jobs[0]).toMatchObject({ name: 'build', status: 'success', reused: { ref: 'dev' } });
  }, 60_000);

  it('a new commit with the same files (a merge, a fresh clone) reuses it; a changed file runs it', async () => {
    git(reuseProject, 'commit', '--quiet', '--allow-empty', '-m', 'same tree');
    const same = await reuse({}, 'prod');
    expect(jobOf(same.record, 'build')?.reused?.ref).toBe('dev');
    writeFileSync(join(reuseProject, 'src.txt'), 'two\n');
    git(reuseProject, 'commit', '--quiet', '-am', 'two');
    const changed = await reuse({}, 'dev');
    expect(jobOf(changed.record, 'build')?.reused).toBeUndefined();
    expect(log('deploy')).toContain('deploying v-two');
    expect(runLines().filter((line) => line.startsWith('build'))).toEqual(['build dev ', 'build dev ']);
  }, 60_000);

  it('an environment branch that differs only in the files promotions write (its own image pin) reuses it', async () => {
    // The stage branch as shipway promote leaves it: dev's files plus a commit pinning stage's image.
    git(reuseProject, 'checkout', '--quiet', '-b', 'stage');
    mkdirSync(join(reuseProject, 'deployment/stage'), { recursive: true });
    writeFileSync(
      join(reuseProject, 'deployment/stage/kustomization.yaml'),
      'images: [{name: app, digest: sha256:1}]\n',
    );
    git(reuseProject, 'add', '-A');
    git(reuseProject, 'commit', '--quiet', '-m', '[skip ci] promote stage');
    const pinnedOnly = await reuse({}, 'stage', 'stage');
    expect(jobOf(pinnedOnly.record, 'build')?.reused?.ref).toBe('dev');
    // Any other file counts.
    writeFileSync(join(reuseProject, 'deployment/stage/notes.txt'), 'not a pin\n');
    git(reuseProject, 'add', '-A');
    git(reuseProject, 'commit', '--quiet', '-m', 'a note on stage');
    const other = await reuse({}, 'stage', 'stage');
    expect(jobOf(other.record, 'build')?.reused).toBeUndefined();
    git(reuseProject, 'checkout', '--quiet', 'main');
  }, 60_000);

  it('--no-reuse, a different variable value, and a failure each run the job again', async () => {
    const before = runLines().length;
    const forced = await reuse({ reuse: false }, 'stage');
    expect(jobOf(forced.record, 'build')?.reused).toBeUndefined();
    // An outside (group or project) variable is part of the key.
    await executeWith(new Map([['FLAVOUR', 'blue']]));
    writeFileSync(failFlag, '');
    const failed = await executeWith(new Map([['FLAVOUR', 'green']]));
    expect(statuses(failed.record).build).toBe('failed');
    rmSync(failFlag);
    // The failure was not kept: the same key runs again.
    const retried = await executeWith(new Map([['FLAVOUR', 'green']]));
    expect(jobOf(retried.record, 'build')?.reused).toBeUndefined();
    const builds = runLines()
      .slice(before)
      .filter((line) => line.startsWith('build'));
    expect(builds).toEqual(['build stage ', 'build stage blue', 'build stage green']);
    // And now it is kept.
    const again = await executeWith(new Map([['FLAVOUR', 'green']]));
    expect(jobOf(again.record, 'build')?.reused?.ref).toBe('stage');
  }, 90_000);

  it('a kept result whose artifacts were changed since is thrown away and the job runs', async () => {
    const results = join(root, 'caches', 'results');
    const kept = readdirSync(results).filter((name) => !name.startsWith('.'));
    for (const key of kept) {
      const file = join(results, key, 'artifacts', 'out', 'app.txt');
      if (existsSync(file)) writeFileSync(file, 'tampered\n');
    }
    const after = await reuse({}, 'dev');
    expect(jobOf(after.record, 'build')?.reused).toBeUndefined();
    expect(log('deploy')).not.toContain('tampered');
  }, 60_000);

  async function executeWith(outside: Map<string, string>) {
    return execute({ yes: true }, { repository: reuseProject, ref: 'stage', outside });
  }
});

describe('executePipeline: SHIPWAY_REUSE and the artifacts a job receives', () => {
  const artifactProject = join(root, 'artifact-project');
  const stamp = join(root, 'stamp.txt');
  const tested = join(root, 'tested.log');
  git(root, 'init', '--quiet', '--initial-branch=main', artifactProject);
  writeFileSync(
    join(artifactProject, '.gitlab-ci.yml'),
    `stages: [build, test]
stamp:
  stage: build
  script: ['mkdir -p out && cp ${stamp} out/stamp.txt']
  artifacts: {paths: [out/]}
check:
  stage: test
  needs: [stamp]
  variables: {SHIPWAY_REUSE: tree}
  script: ['cat out/stamp.txt >> ${tested}']
`,
  );
  git(artifactProject, 'add', '-A');
  git(artifactProject, 'commit', '--quiet', '-m', 'one');

  it('a job that declares it runs again when the artifacts it needs differ, though the tree is the same', async () => {
    const check = async (content: string, ref: string) => {
      writeFileSync(stamp, content);
      const { record } = await execute({}, { repository: artifactProject, ref });
      return record.jobs.find((job) => job.name === 'check')?.reused?.ref;
    };
    expect(await check('first\n', 'dev')).toBeUndefined();
    expect(await check('first\n', 'stage')).toBe('dev');
    expect(await check('second\n', 'prod')).toBeUndefined();
    expect(readFileSync(tested, 'utf8')).toBe('first\nsecond\n');
  }, 60_000);
});
