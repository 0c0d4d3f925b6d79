import { describe, expect, it } from 'vitest';
import { parseCiYaml } from './ci-yaml.js';
import { loadCiConfig } from './load-ci-config.js';
import { type PipelinePlan, planPipeline } from './plan-pipeline.js';
import { type JobState, pipelineStatus, scheduleJobs } from './schedule-jobs.js';

function plan(yaml: string): PipelinePlan {
  parseCiYaml(yaml, '.gitlab-ci.yml');
  const config = loadCiConfig({ read: () => ({ kind: 'file', text: yaml }), list: () => [] }, '.gitlab-ci.yml');
  return planPipeline({
    config,
    trigger: {
      branch: 'main',
      source: 'push',
      defaultBranch: 'main',
      sha: 'a'.repeat(40),
      message: '',
      projectPath: 'g/p',
      projectDir: '/w',
    },
  });
}

/** Runs the scheduler to a standstill, each job ending as `outcome` says (default success). */
function simulate(
  pipeline: PipelinePlan,
  outcome: Record<string, 'success' | 'failed'> = {},
  approved: string[] = [],
): { order: string[]; states: Map<string, JobState> } {
  const states = new Map<string, JobState>();
  const order: string[] = [];
  for (let round = 0; round < 50; round += 1) {
    const decisions = scheduleJobs(pipeline, states, (job) => approved.includes(job.name));
    const next = decisions.find((decision) => decision.action === 'run');
    for (const decision of decisions) {
      if (decision.action === 'skip') states.set(decision.job.name, { status: 'skipped', allowFailure: false });
      if (decision.action === 'await-approval')
        states.set(decision.job.name, { status: 'manual', allowFailure: decision.job.allowFailure });
    }
    // A skip can make later jobs ready (on_failure, always): look again before stopping.
    if (next === undefined && decisions.some((decision) => decision.action === 'skip')) continue;
    if (next === undefined) break;
    order.push(next.job.name);
    states.set(next.job.name, { status: outcome[next.job.name] ?? 'success', allowFailure: next.job.allowFailure });
  }
  return { order, states };
}

const statusOf = (states: Map<string, JobState>) =>
  Object.fromEntries([...states].map(([name, s]) => [name, s.status]));

describe('scheduleJobs: GitLab job ordering', () => {
  const config = `
stages: [build, deploy, promote]
build: {stage: build, script: [b]}
deploy: {stage: deploy, script: [d], when: manual, allow_failure: false}
promote: {stage: promote, script: [p], when: manual}
after: {stage: promote, script: [a]}
`;

  it('a blocking manual job holds the later stages, and the pipeline is blocked', () => {
    const pipeline = plan(config);
    const { order, states } = simulate(pipeline);
    expect(order).toEqual(['build']);
    expect(statusOf(states)).toEqual({ build: 'success', deploy: 'manual' });
    expect(pipelineStatus(pipeline, states)).toBe('blocked');
  });

  it('once approved it runs; a manual job that may fail does not hold anything', () => {
    const pipeline = plan(config);
    const { order, states } = simulate(pipeline, {}, ['deploy']);
    expect(order).toEqual(['build', 'deploy', 'after']);
    expect(statusOf(states)).toMatchObject({ promote: 'manual', after: 'success' });
    expect(pipelineStatus(pipeline, states)).toBe('success');
  });

  it('a failure skips on_success jobs after it, runs on_failure and always jobs; allow_failure does not count', () => {
    const pipeline = plan(`
stages: [a, b, c]
one: {stage: a, script: [x]}
flaky: {stage: a, script: [x], allow_failure: true}
two: {stage: b, script: [x]}
cleanup: {stage: c, script: [x], when: on_failure}
report: {stage: c, script: [x], when: always}
`);
    expect(simulate(pipeline, { flaky: 'failed' }).order).toEqual(['one', 'flaky', 'two', 'report']);
    const failed = simulate(pipeline, { one: 'failed' });
    expect(failed.order).toEqual(['one', 'flaky', 'cleanup', 'report']);
    expect(statusOf(failed.states)).toMatchObject({ two: 'skipped' });
    expect(pipelineStatus(pipeline, failed.states)).toBe('failed');
  });

  it('a job that needs a skipped job is skipped too (deploy after a failed build never runs)', () => {
    const pipeline = plan(`
stages: [build, publish, deploy]
build: {stage: build, script: [x]}
publish: {stage: publish, script: [x], needs: [build]}
deploy: {stage: deploy, script: [x], needs: [publish]}
`);
    const { order, states } = simulate(pipeline, { build: 'failed' });
    expect(order).toEqual(['build']);
    expect(statusOf(states)).toEqual({ build: 'failed', publish: 'skipped', deploy: 'skipped' });
  });

  it('needs start a job as soon as what it needs is done, ahead of its stage', () => {
    const pipeline = plan(`
stages: [build, test, deploy]
slow: {stage: build, script: [x]}
fast: {stage: build, script: [x]}
unit: {stage: test, script: [x], needs: [fast]}
ship: {stage: deploy, script: [x], needs: [unit]}
lint: {stage: test, script: [x]}
`);
    // Ordering among ready jobs follows the config; what matters is what waits for what.
    const { order } = simulate(pipeline, { slow: 'failed' });
    expect(order).toEqual(['slow', 'fast', 'unit', 'ship']);
  });
});
