import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { shipway } from './support/run-shipway.js';

// `shipway plan --json` on configs written from GitLab's documentation, one feature at a time;
// each test names the documentation section it follows.

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Job {
  name: string;
  when: string;
  stage: string;
  allowFailure: boolean;
  allowFailureExitCodes?: number[];
  needs: string[] | null;
  dependencies?: string[];
  startIn: string | null;
  parallel?: { job: string; index: number; total: number; variables: Record<string, string> | null };
  trigger?: { project?: string; branch?: string | null; child?: Plan | null; reason?: string | null };
}
interface Plan {
  created: boolean;
  reason: string | null;
  errors: { file: string; line: number; message: string }[];
  stages: { name: string; jobs: Job[] }[];
}

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'shipway-plan-features-'));
  dirs.push(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

async function plan(files: Record<string, string> | string, ...args: string[]): Promise<Plan & { code: number }> {
  const dir = typeof files === 'string' ? files : project(files);
  const run = await shipway(dir, ['plan', '--json', '--default-branch', 'main', '--message', 'a change', ...args]);
  if (run.stdout === '') throw new Error(run.stderr);
  return { ...(JSON.parse(run.stdout) as Plan), code: run.code };
}

const ci = (text: string) => ({ '.gitlab-ci.yml': text });
const jobsOf = (result: Plan) => result.stages.flatMap((stage) => stage.jobs);
const names = (result: Plan) => jobsOf(result).map((job) => job.name);
const job = (result: Plan, name: string) => jobsOf(result).find((candidate) => candidate.name === name);
const errors = (result: Plan) => result.errors.map((error) => `${error.file}:${error.line} ${error.message}`);

describe('parallel (docs: ci/yaml "parallel", "parallel:matrix", "needs:parallel:matrix")', () => {
  it('parallel: N makes job 1/N … N/N, and CI_NODE_INDEX / CI_NODE_TOTAL are visible to rules', async () => {
    const result = await plan(
      ci(`test:
  parallel: 3
  script: [rspec]
  rules:
    - if: $CI_NODE_INDEX == "3" && $CI_NODE_TOTAL == "3"
      when: manual
    - when: on_success
`),
      '--ref',
      'main',
    );
    expect(jobsOf(result).map((one) => `${one.name} ${one.when}`)).toEqual([
      'test 1/3 on_success',
      'test 2/3 on_success',
      'test 3/3 manual',
    ]);
    expect(job(result, 'test 2/3')?.parallel).toEqual({ job: 'test', index: 2, total: 3, variables: null });
  });

  it('matrix: one job per combination, named as GitLab names them; each instance’s variables in its rules', async () => {
    const result = await plan(
      ci(`deploystacks:
  stage: deploy
  script: [bin/deploy]
  parallel:
    matrix:
      - PROVIDER: aws
        STACK: [monitoring, app1, app2]
      - PROVIDER: ovh
        STACK: [monitoring, backup, app]
      - PROVIDER: [gcp, vultr]
        STACK: [data, processing]
  rules:
    - if: $PROVIDER == "vultr" && $STACK == "processing"
      when: never
    - if: $PROVIDER == "ovh"
      when: manual
    - when: on_success
`),
      '--ref',
      'main',
    );
    expect(jobsOf(result).map((one) => `${one.name} ${one.when}`)).toEqual([
      'deploystacks: [aws, monitoring] on_success',
      'deploystacks: [aws, app1] on_success',
      'deploystacks: [aws, app2] on_success',
      'deploystacks: [ovh, monitoring] manual',
      'deploystacks: [ovh, backup] manual',
      'deploystacks: [ovh, app] manual',
      'deploystacks: [gcp, data] on_success',
      'deploystacks: [gcp, processing] on_success',
      'deploystacks: [vultr, data] on_success',
    ]);
    expect(job(result, 'deploystacks: [gcp, data]')?.parallel).toEqual({
      job: 'deploystacks',
      index: 7,
      total: 10,
      variables: { PROVIDER: 'gcp', STACK: 'data' },
    });
  });

  it('needs and dependencies on a whole matrix job, on one instance by name, and needs:parallel:matrix selecting some', async () => {
    const result = await plan(
      ci(`stages: [build, test, deploy]
build:
  stage: build
  script: [make]
  parallel:
    matrix:
      - PROVIDER: [aws, gcp]
        STACK: [app, data]
all:
  stage: test
  script: [t]
  needs: [build]
  dependencies: [build]
one:
  stage: test
  script: [t]
  needs: ["build: [gcp, data]"]
some:
  stage: deploy
  script: [d]
  needs:
    - job: build
      parallel:
        matrix:
          - PROVIDER: aws
            STACK: [app, data]
`),
      '--ref',
      'main',
    );
    expect(errors(result)).toEqual([]);
    const every = ['build: [aws, app]', 'build: [aws, data]', 'build: [gcp, app]', 'build: [gcp, data]'];
    expect(job(result, 'all')?.needs).toEqual(every);
    expect(job(result, 'all')?.dependencies).toEqual(every);
    expect(job(result, 'one')?.needs).toEqual(['build: [gcp, data]']);
    expect(job(result, 'some')?.needs).toEqual(['build: [aws, app]', 'build: [aws, data]']);
  });

  it('a need on an instance that does not exist is an error; more than 200 instances is an error at parallel:', async () => {
    const result = await plan(
      ci(`build:
  stage: build
  script: [make]
  parallel:
    matrix:
      - A: [a1, a2]
test:
  script: [t]
  needs: ["build: [a3]"]
big:
  script: [b]
  parallel:
    matrix:
      - X: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
        Y: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
`),
      '--ref',
      'main',
    );
    expect(result.code).toBe(2);
    expect(errors(result)).toEqual([
      '.gitlab-ci.yml:12 job big: parallel matrix generates too many jobs (maximum is 200)',
      '.gitlab-ci.yml:9 job test: needs names build: [a3], which is not a job in the config',
    ]);
  });
});

describe('parallel: errors once per job, not per instance (found by fuzzing)', () => {
  it('200 instances needing the 200 instances of a later job, and a rule-excluded one, are one error each, not 40,000', async () => {
    const values = Array.from({ length: 200 }, (_, index) => `v${index}`).join(', ');
    const result = await plan(
      ci(`stages: [build, test]
early:
  stage: build
  script: [e]
  parallel:
    matrix:
      - N: [${values}]
  needs: [late, excluded]
late:
  stage: test
  script: [l]
  parallel:
    matrix:
      - N: [${values}]
excluded:
  stage: build
  script: [x]
  parallel:
    matrix:
      - N: [${values}]
  rules:
    - when: never
`),
      '--ref',
      'main',
    );
    expect(errors(result)).toEqual([
      '.gitlab-ci.yml:8 job early: [v0]: needs names late: [v0], which is in a later stage (test)',
      '.gitlab-ci.yml:2 job early: [v0]: needs excluded: [v0], which is not in this pipeline (its rules exclude it); mark the need optional: true or align the rules',
    ]);
  });
});

describe('child and multi-project pipelines (docs: ci/pipelines/downstream_pipelines)', () => {
  const files = {
    'ci/child.yml': `workflow:
  rules:
    - if: $CI_PIPELINE_SOURCE == "parent_pipeline"
child-build:
  script: [make]
child-deploy:
  stage: deploy
  script: [d]
  rules:
    - if: $DEPLOY_TARGET == "staging"
`,
    '.gitlab-ci.yml': `trigger-child:
  variables:
    DEPLOY_TARGET: staging
  trigger:
    include: ci/child.yml
other-project:
  stage: deploy
  trigger:
    project: acme/deployer
    branch: stable
dynamic:
  stage: deploy
  trigger:
    include:
      - artifact: generated.yml
        job: generate
`,
  };

  it('trigger:include of a local file is planned as a child pipeline under the trigger job; trigger:project is a bridge', async () => {
    const result = await plan(files, '--ref', 'main');
    expect(errors(result)).toEqual([]);
    const child = job(result, 'trigger-child')?.trigger?.child;
    expect(child?.created).toBe(true);
    expect(child && names(child)).toEqual(['child-build', 'child-deploy']);
    expect(job(result, 'other-project')?.trigger).toEqual({ project: 'acme/deployer', branch: 'stable' });
    expect(job(result, 'dynamic')?.trigger).toEqual({
      child: null,
      reason: expect.stringMatching(/dynamic child pipeline/),
    });
    const table = await shipway(project(files), ['plan', '--ref', 'main']);
    expect(table.stdout).toMatch(/trigger-child[^\n]*\n[^\n]*↳\s+child pipeline\n[^\n]*child-build/);
    expect(table.stdout).toMatch(/↳\s+project acme\/deployer \(stable\)/);
  });

  it('a child config with errors is reported with its line and exits 2, while the parent is created', async () => {
    const result = await plan(
      {
        'ci/child.yml': 'broken:\n  stage: nowhere\n  script: [x]\n',
        '.gitlab-ci.yml': 'up:\n  trigger:\n    include: ci/child.yml\n',
      },
      '--ref',
      'main',
    );
    expect(result.code).toBe(2);
    expect(result.created).toBe(true);
    expect(job(result, 'up')?.trigger?.child?.errors).toEqual([
      expect.objectContaining({
        file: 'ci/child.yml',
        line: 2,
        message: expect.stringMatching(/chosen stage nowhere does not exist/),
      }),
    ]);
  });
});

describe('expressions (docs: ci/jobs/job_rules "Compare a variable to a regular expression")', () => {
  it('=~ with a quoted /regex/, with a variable holding one ($CI_JOB_NAME =~ $SELECTED_JOBS), and an undefined variable on the right', async () => {
    const result = await plan(
      ci(`variables:
  SELECTED_JOBS: /^(build|lint)/
build-app:
  script: [b]
  rules:
    - if: $CI_JOB_NAME =~ $SELECTED_JOBS
lint-app:
  script: [l]
  rules:
    - if: $CI_COMMIT_BRANCH =~ "/^feat/i" && $CI_JOB_NAME =~ $SELECTED_JOBS
test-app:
  script: [t]
  rules:
    - if: $CI_JOB_NAME =~ $SELECTED_JOBS
undefined-right:
  script: [u]
  rules:
    - if: $CI_JOB_NAME =~ $NOT_SET
      when: manual
    - if: $CI_JOB_NAME !~ $NOT_SET
`),
      '--ref',
      'FEAT/login',
    );
    expect(errors(result)).toEqual([]);
    expect(jobsOf(result).map((one) => `${one.name} ${one.when}`)).toEqual([
      'build-app on_success',
      'lint-app on_success',
      'undefined-right on_success',
    ]);
  });

  it('a quoted string that is not a pattern is matched as text, as Ruby String#scan matches it', async () => {
    const result = await plan(
      ci('in-list:\n  script: [x]\n  rules:\n    - if: $CI_COMMIT_BRANCH =~ "main develop"\n'),
      '--ref',
      'develop',
    );
    expect(names(result)).toEqual(['in-list']);
  });
});

describe('predefined variables in rules (docs: ci/variables/predefined_variables, "Pipeline" availability)', () => {
  it('$CI_JOB_STAGE, $CI_JOB_NAME and $CI_ENVIRONMENT_NAME are set per job', async () => {
    const result = await plan(
      ci(`.only-deploy-stage:
  rules:
    - if: $CI_JOB_STAGE == "deploy"
build:
  extends: .only-deploy-stage
  stage: build
  script: [b]
deploy-app:
  extends: .only-deploy-stage
  stage: deploy
  script: [d]
named:
  script: [n]
  rules:
    - if: $CI_JOB_NAME == "named" && $CI_ENVIRONMENT_NAME == "review/$CI_COMMIT_REF_SLUG"
  environment:
    name: review/$CI_COMMIT_REF_SLUG
`),
      '--ref',
      'main',
    );
    expect(names(result)).toEqual(['deploy-app']);
  });

  it('CI_COMMIT_REF_PROTECTED is true on the default branch and environment branches, false elsewhere; --protected/--no-protected override', async () => {
    const config = ci(`protected-only:
  script: [p]
  rules:
    - if: $CI_COMMIT_REF_PROTECTED == "true"
unprotected-only:
  script: [u]
  rules:
    - if: $CI_COMMIT_REF_PROTECTED == "false"
`);
    const dir = project({
      ...config,
      'shipway.yaml': `app: hello
image: { name: hello, repository: 127.0.0.1:5000/hello }
build: { context: ., output: dist, inputs: [package.json] }
git: { remote: origin }
environments:
  - { name: dev, branch: dev, overlay: deployment/dev, namespace: hello-dev, gate: auto, rollout: { name: hello, strategy: rolling } }
`,
    });
    expect(names(await plan(dir, '--ref', 'main'))).toEqual(['protected-only']);
    expect(names(await plan(dir, '--ref', 'dev'))).toEqual(['protected-only']);
    expect(names(await plan(dir, '--ref', 'feature'))).toEqual(['unprotected-only']);
    expect(names(await plan(dir, '--tag', 'v1'))).toEqual(['unprotected-only']);
    expect(names(await plan(dir, '--ref', 'feature', '--protected'))).toEqual(['protected-only']);
    expect(names(await plan(dir, '--ref', 'main', '--no-protected'))).toEqual(['unprotected-only']);
  });
});

describe('defaults GitLab applies (docs: ci/yaml "workflow:rules", "rules:start_in", "default", "needs:optional")', () => {
  it('with workflow:rules, a job without rules has no default only: [branches, tags] (it runs in merge request pipelines)', async () => {
    const config = `workflow:
  rules:
    - if: $CI_PIPELINE_SOURCE == "merge_request_event"
    - if: $CI_COMMIT_BRANCH
plain:
  script: [p]
`;
    expect(names(await plan(ci(config), '--ref', 'feature', '--source', 'merge_request_event'))).toEqual(['plain']);
    // Without workflow:rules the default only: [branches, tags] leaves it out of a merge request pipeline.
    const without = await plan(ci('plain:\n  script: [p]\n'), '--ref', 'feature', '--source', 'merge_request_event');
    expect(without.created).toBe(false);
  });

  it('when: delayed with start_in may come from a rule; start_in on a job with rules is an error', async () => {
    const delayed = await plan(
      ci(
        'later:\n  script: [x]\n  rules:\n    - if: $CI_COMMIT_BRANCH\n      when: delayed\n      start_in: 30 minutes\n',
      ),
      '--ref',
      'main',
    );
    expect(job(delayed, 'later')).toMatchObject({ when: 'delayed', startIn: '30 minutes' });
    const wrong = await plan(
      ci('later:\n  script: [x]\n  when: delayed\n  start_in: 1 hour\n  rules:\n    - if: $CI_COMMIT_BRANCH\n'),
      '--ref',
      'main',
    );
    expect(errors(wrong)).toEqual([
      '.gitlab-ci.yml:4 job later: start_in may not be used with rules; put start_in in the rule with when: delayed',
    ]);
  });

  it('default: accepts only the keywords GitLab allows there; any other key is an error at its line', async () => {
    const result = await plan(
      ci('default:\n  image: node:20\n  variables:\n    A: b\n  stage: build\njob:\n  script: [x]\n'),
      '--ref',
      'main',
    );
    expect(errors(result)).toEqual([
      expect.stringMatching(/^\.gitlab-ci\.yml:3 default config contains unknown keys: variables/),
      expect.stringMatching(/^\.gitlab-ci\.yml:5 default config contains unknown keys: stage/),
    ]);
  });

  it('[skip ci] or [ci skip] in any capitalisation skips a push pipeline, not a merge request or web one', async () => {
    const config = ci('job:\n  script: [x]\n  rules:\n    - when: always\n');
    for (const message of ['fix [skip ci]', 'docs [CI SKIP] typo', 'x [Skip-CI]']) {
      const skipped = await plan(config, '--ref', 'main', '--message', message);
      expect([message, skipped.created, skipped.reason]).toEqual([message, false, 'the commit message says [skip ci]']);
    }
    expect((await plan(config, '--ref', 'main', '--message', '[skip ci]', '--source', 'web')).created).toBe(true);
    expect((await plan(config, '--ref', 'main', '--message', 'skip ci')).created).toBe(true);
  });

  it('an optional need on a job that is not in the pipeline is dropped; dependencies on such a job do not refuse it', async () => {
    const result = await plan(
      ci(`stages: [build, test]
lint:
  stage: build
  script: [l]
  rules:
    - if: $CI_PIPELINE_SOURCE == "merge_request_event"
compile:
  stage: build
  script: [c]
test:
  stage: test
  script: [t]
  needs:
    - job: lint
      optional: true
    - compile
report:
  stage: test
  script: [r]
  dependencies: [lint, compile]
`),
      '--ref',
      'main',
    );
    expect(errors(result)).toEqual([]);
    expect(job(result, 'test')?.needs).toEqual(['compile']);
    expect(job(result, 'report')?.dependencies).toEqual(['compile']);
  });

  it('allow_failure: exit_codes is reported as such in --json (docs: "allow_failure:exit_codes")', async () => {
    const result = await plan(
      ci(
        'flaky:\n  script: [x]\n  allow_failure:\n    exit_codes: [137, 255]\nsingle:\n  script: [y]\n  allow_failure:\n    exit_codes: 42\n',
      ),
      '--ref',
      'main',
    );
    expect(job(result, 'flaky')).toMatchObject({ allowFailure: false, allowFailureExitCodes: [137, 255] });
    expect(job(result, 'single')).toMatchObject({ allowFailure: false, allowFailureExitCodes: [42] });
  });
});
