import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../src/app/context.js';
import { executePipeline, logName } from '../src/app/execute-pipeline.js';
import { recordPipeline } from '../src/app/pipeline-record-file.js';
import type { PipelineRecord, RunEvent, RunPipelineOptions } from '../src/app/pipeline-run-model.js';
import { repositorySources } from '../src/app/repository-sources.js';
import { loadCiConfig } from '../src/core/pipeline/load-ci-config.js';
import { planPipeline } from '../src/core/pipeline/plan-pipeline.js';
import { git } from './support/git-fixture.js';

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

let runs = 0;
async function execute(options: Partial<RunPipelineOptions>): Promise<{ record: PipelineRecord; events: RunEvent[] }> {
  runs += 1;
  const dir = join(root, 'runs', String(runs));
  const workspace = join(dir, 'work');
  git(root, 'clone', '--quiet', project, workspace);
  const sha = git(workspace, 'rev-parse', 'HEAD').trim();
  const sources = repositorySources(workspace);
  const trigger = {
    branch: 'main',
    source: 'push' as const,
    defaultBranch: 'main',
    sha,
    message: 'initial',
    projectPath: 'local/project',
    projectDir: workspace,
  };
  const plan = planPipeline({ config: loadCiConfig(sources, '.gitlab-ci.yml'), trigger, files: sources.files });
  const jobs = plan.stages.flatMap((stage) => stage.jobs);
  const record: PipelineRecord = {
    ...{ id: runs, ref: 'main', sha, created: true, reason: null, status: 'running', ms: 0 },
    jobs: jobs.map((job) => ({
      name: job.name,
      stage: job.stage,
      status: 'created',
      ms: null,
      log: join(dir, logName(job.name)),
    })),
  };
  const events: RunEvent[] = [];
  const context: AppContext = { cwd: project, env: process.env, progress: () => {} };
  await executePipeline(
    plan,
    record,
    { file: '.gitlab-ci.yml', refs: ['main'], approve: [], yes: false, ...options, onEvent: (e) => events.push(e) },
    {
      context,
      outside: new Map(),
      ref: 'main',
      id: runs,
      dir,
      workspace,
      sha,
      recorder: recordPipeline(dir, record, Date.now()),
    },
  );
  return { record, events };
}

const statuses = (record: PipelineRecord) => Object.fromEntries(record.jobs.map((job) => [job.name, job.status]));

describe('executePipeline', () => {
  it('--yes runs the manual deploy with the dotenv of build, and leaves the rollback waiting', async () => {
    const { record, events } = await execute({ yes: true });
    expect(statuses(record)).toEqual({ build: 'success', deploy: 'success', rollback: 'manual' });
    expect(readFileSync(join(root, 'runs', String(runs), logName('deploy')), 'utf8')).toContain('deploying v1');
    const order = events.flatMap((event) => (event.kind === 'job' ? [`${event.job}:${event.status}`] : []));
    expect(order).toEqual(['build:running', 'build:success', 'deploy:running', 'deploy:success', 'rollback:manual']);
    const file = JSON.parse(readFileSync(join(root, 'runs', String(runs), 'pipeline.json'), 'utf8'));
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

  it('--approve names a rollback that --yes would not run', async () => {
    const { record } = await execute({ yes: true, approve: ['rollback'] });
    expect(statuses(record)).toEqual({ build: 'success', deploy: 'success', rollback: 'success' });
    expect(readFileSync(join(root, 'runs', String(runs), logName('rollback')), 'utf8')).toContain('rolling back');
  }, 60_000);
});
