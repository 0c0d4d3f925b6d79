import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ORIGINAL_PIPELINE } from './support/fixtures.js';
import { REPO_ROOT } from './support/git-fixture.js';
import { shipway } from './support/run-shipway.js';

// `shipway plan --json` on small configs, one keyword at a time, each checked against what
// GitLab creates for the same config, ref and source.
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface PlanJob {
  name: string;
  when: string;
  allowFailure: boolean;
  needs: string[] | null;
}
interface Plan {
  created: boolean;
  reason: string | null;
  errors: { file: string; line: number; message: string }[];
  stages: { name: string; jobs: PlanJob[] }[];
}

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'shipway-plan-'));
  dirs.push(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

async function plan(files: Record<string, string> | string, ...args: string[]): Promise<Plan & { code: number }> {
  const dir = typeof files === 'string' ? files : project(files);
  const run = await shipway(dir, ['plan', '--json', '--default-branch', 'main', ...args]);
  if (run.stdout === '') throw new Error(run.stderr);
  return { ...(JSON.parse(run.stdout) as Plan), code: run.code };
}

/** The plan as "stage: job(when)" lines, the shape most assertions need. */
function jobs(result: Plan): string[] {
  return result.stages.flatMap((stage) =>
    stage.jobs.map(
      (job) =>
        `${stage.name}: ${job.name}${job.when === 'on_success' ? '' : ` (${job.when})`}${job.allowFailure ? ' [may fail]' : ''}`,
    ),
  );
}

const ci = (text: string) => ({ '.gitlab-ci.yml': text });

describe('shipway plan: the JSON contract', () => {
  it('prints created, and stages in order with only their jobs; needs is null without needs:', async () => {
    const result = await plan(
      ci(`
stages: [build, test, deploy]
deploy: {stage: deploy, script: [d], needs: [build]}
build: {stage: build, script: [b]}
lint: {stage: build, script: [l], needs: []}
`),
      '--ref',
      'main',
    );
    expect(result).toMatchObject({
      created: true,
      stages: [
        {
          name: 'build',
          jobs: [
            { name: 'build', when: 'on_success', allowFailure: false, needs: null },
            { name: 'lint', when: 'on_success', allowFailure: false, needs: [] },
          ],
        },
        { name: 'deploy', jobs: [{ name: 'deploy', when: 'on_success', allowFailure: false, needs: ['build'] }] },
      ],
    });
    expect(result.stages.map((stage) => stage.name)).not.toContain('test');
  });

  it('defaults: stages build, test, deploy with .pre first and .post last; a job without stage is in test', async () => {
    const result = await plan(
      ci('after: {stage: .post, script: [a]}\nunit: {script: [u]}\nsetup: {stage: .pre, script: [s]}\n'),
      '--ref',
      'main',
    );
    expect(jobs(result)).toEqual(['.pre: setup', 'test: unit', '.post: after']);
  });

  it('a pipeline with only .pre/.post jobs is not created', async () => {
    const result = await plan(ci('setup: {stage: .pre, script: [s]}\n'), '--ref', 'main');
    expect(result).toMatchObject({ created: false, stages: [] });
  });
});

describe('shipway plan: rules', () => {
  const config = ci(`
variables:
  DEPLOY_BRANCH: main
build:
  script: [b]
  rules:
    - if: $CI_PIPELINE_SOURCE == "merge_request_event"
    - if: $CI_COMMIT_BRANCH
    - if: $CI_COMMIT_TAG =~ /^v\\d+\\.\\d+/
deploy:
  stage: deploy
  script: [d]
  rules:
    - if: $CI_COMMIT_BRANCH == $DEPLOY_BRANCH && $CI_PIPELINE_SOURCE != "schedule"
      when: manual
    - if: $CI_COMMIT_TAG
      when: on_success
nightly:
  script: [n]
  rules:
    - if: '$CI_PIPELINE_SOURCE == "schedule" && ($NIGHTLY == "true" || $FORCE)'
review:
  script: [r]
  rules:
    - if: $CI_MERGE_REQUEST_TARGET_BRANCH_NAME == "main"
      allow_failure: true
`);

  it('a branch, a tag, a merge request and a schedule each get their own pipeline', async () => {
    expect(jobs(await plan(config, '--ref', 'main'))).toEqual(['test: build', 'deploy: deploy (manual)']);
    expect(jobs(await plan(config, '--ref', 'feature/x'))).toEqual(['test: build']);
    expect(jobs(await plan(config, '--tag', 'v1.2.0'))).toEqual(['test: build', 'deploy: deploy']);
    expect(jobs(await plan(config, '--tag', 'nightly-1'))).toEqual(['deploy: deploy']);
    expect(jobs(await plan(config, '--ref', 'feature/x', '--source', 'merge_request_event'))).toEqual([
      'test: build',
      'test: review [may fail]',
    ]);
    expect(jobs(await plan(config, '--ref', 'main', '--source', 'schedule', '--var', 'NIGHTLY=true'))).toEqual([
      'test: build',
      'test: nightly',
    ]);
    expect(jobs(await plan(config, '--ref', 'main', '--source', 'schedule'))).toEqual(['test: build']);
    expect(jobs(await plan(config, '--ref', 'main', '--source', 'schedule', '--var', 'FORCE=1'))).toContain(
      'test: nightly',
    );
  });

  it('a manual job from rules blocks (allowFailure false); job-level when: manual may fail (true)', async () => {
    const result = await plan(
      ci(`
ruled: {script: [a], rules: [{when: manual}]}
ruled-optional: {script: [a], rules: [{when: manual, allow_failure: true}]}
job-level: {script: [a], when: manual}
job-level-strict: {script: [a], when: manual, allow_failure: false}
`),
      '--ref',
      'main',
    );
    expect(jobs(result)).toEqual([
      'test: ruled (manual)',
      'test: ruled-optional (manual) [may fail]',
      'test: job-level (manual) [may fail]',
      'test: job-level-strict (manual)',
    ]);
  });

  it('when: never excludes, always / on_failure / delayed keep their when; rule variables feed later evaluation', async () => {
    const result = await plan(
      ci(`
never: {script: [a], rules: [{if: $CI_COMMIT_BRANCH, when: never}, {when: always}]}
always: {script: [a], rules: [{when: always}]}
cleanup: {script: [a], when: on_failure}
later: {script: [a], when: delayed, start_in: 5 minutes}
`),
      '--ref',
      'main',
    );
    expect(jobs(result)).toEqual(['test: always (always)', 'test: cleanup (on_failure)', 'test: later (delayed)']);
    expect(result.stages[0]?.jobs.find((job) => job.name === 'later')).toMatchObject({ startIn: '5 minutes' });
  });

  it('rules:changes matches the changed files, and is true when nothing is known to compare with', async () => {
    const config = ci(`
docs: {script: [a], rules: [{changes: ["docs/**/*.md"]}]}
service: {script: [a], rules: [{changes: {paths: ["service/{src,test}/*.ts"]}}]}
`);
    expect(jobs(await plan(config, '--ref', 'main', '--changed', 'docs/guide/setup.md'))).toEqual(['test: docs']);
    expect(jobs(await plan(config, '--ref', 'main', '--changed', 'service/test/a.ts'))).toEqual(['test: service']);
    expect(jobs(await plan(config, '--ref', 'main', '--changed', 'service/src/deep/a.ts'))).toEqual([]);
    expect(jobs(await plan(config, '--tag', 'v1'))).toEqual(['test: docs', 'test: service']);
  });

  it('rules:exists looks at the repository files', async () => {
    const dir = project({
      '.gitlab-ci.yml': `
docker: {script: [a], rules: [{exists: ["**/Dockerfile"]}]}
helm: {script: [a], rules: [{exists: ["chart/Chart.yaml"]}]}
`,
      'service/Dockerfile': 'FROM scratch\n',
    });
    expect(jobs(await plan(dir, '--ref', 'main'))).toEqual(['test: docker']);
  });

  it('=~ and !~ with flags, a pattern held in a variable, null and empty checks, && before ||', async () => {
    const result = await plan(
      ci(`
variables:
  PATTERN: /^RELEASE-/i
  EMPTY: ""
case-insensitive: {script: [a], rules: [{if: $CI_COMMIT_BRANCH =~ /^release-/i}]}
from-variable: {script: [a], rules: [{if: $CI_COMMIT_BRANCH =~ $PATTERN}]}
not-matching: {script: [a], rules: [{if: $CI_COMMIT_BRANCH !~ /^main$/}]}
unset-is-null: {script: [a], rules: [{if: $UNSET == null && $CI_COMMIT_TAG == null}]}
empty-is-not-null: {script: [a], rules: [{if: $EMPTY == "" && $EMPTY != null}]}
empty-is-false: {script: [a], rules: [{if: $EMPTY}]}
precedence: {script: [a], rules: [{if: $UNSET || $CI_COMMIT_BRANCH && $UNSET}]}
parentheses: {script: [a], rules: [{if: ($UNSET || $CI_COMMIT_BRANCH) && $CI_COMMIT_REF_SLUG == "release-1-2"}]}
`),
      '--ref',
      'Release-1.2',
    );
    expect(jobs(result)).toEqual([
      'test: case-insensitive',
      'test: from-variable',
      'test: not-matching',
      'test: unset-is-null',
      'test: empty-is-not-null',
      'test: parentheses',
    ]);
  });

  it('variables: global, job and rule variables expand $VAR and ${VAR}; --var wins over the file', async () => {
    const config = ci(`
variables:
  ENV_NAME: dev
  TARGET: deploy-\${ENV_NAME}
job:
  variables:
    LOCAL: $TARGET-x
  script: [a]
  rules:
    - if: $LOCAL == "deploy-dev-x"
rule-vars:
  script: [a]
  rules:
    - if: $CI_COMMIT_BRANCH
      variables:
        ENV_NAME: prod
`);
    expect(jobs(await plan(config, '--ref', 'main'))).toEqual(['test: job', 'test: rule-vars']);
    expect(jobs(await plan(config, '--ref', 'main', '--var', 'ENV_NAME=stage'))).toEqual(['test: rule-vars']);
  });

  it('rules:needs replaces the job needs when its rule matches', async () => {
    const config = ci(`
stages: [a, b]
one: {stage: a, script: [x]}
two: {stage: a, script: [x]}
three: {stage: b, script: [x], needs: [one], rules: [{if: $CI_COMMIT_TAG, needs: [two]}, {when: on_success}]}
`);
    const onBranch = await plan(config, '--ref', 'main');
    const onTag = await plan(config, '--tag', 'v1');
    expect(onBranch.stages[1]?.jobs[0]?.needs).toEqual(['one']);
    expect(onTag.stages[1]?.jobs[0]?.needs).toEqual(['two']);
  });
});

describe('shipway plan: workflow:rules', () => {
  const config = ci(`
workflow:
  rules:
    - if: $CI_COMMIT_MESSAGE =~ /\\[skip deploy\\]/
      when: never
    - if: $CI_PIPELINE_SOURCE == "merge_request_event"
    - if: $CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS
      when: never
    - if: $CI_COMMIT_BRANCH
      variables:
        FLAVOUR: branch
job:
  script: [a]
  rules:
    - if: $CI_PIPELINE_SOURCE == "merge_request_event" || $FLAVOUR == "branch"
`);

  it('creates the pipeline per the first matching rule, with its variables', async () => {
    expect(await plan(config, '--ref', 'main')).toMatchObject({ created: true });
    expect(await plan(config, '--ref', 'x', '--source', 'merge_request_event')).toMatchObject({ created: true });
  });

  it('no match, or when: never, creates nothing, and says why', async () => {
    expect(await plan(config, '--tag', 'v1')).toMatchObject({
      created: false,
      reason: 'no workflow:rules entry matched',
      stages: [],
    });
    expect(await plan(config, '--ref', 'x', '--open-merge-request')).toMatchObject({ created: false });
    const skipped = await plan(config, '--ref', 'main', '--message', 'docs [skip deploy]');
    expect(skipped.created).toBe(false);
    expect(skipped.reason).toMatch(/when: never/);
  });
});

describe('shipway plan: only / except', () => {
  const config = ci(`
stages: [build, deploy]
default-policy: {stage: build, script: [a]}
named: {stage: deploy, script: [a], only: [dev, stage, prod]}
regex: {stage: deploy, script: [a], only: ['/^release-.*$/']}
tags-only: {stage: deploy, script: [a], only: [tags]}
mr-only: {stage: build, script: [a], only: [merge_requests]}
schedules-only: {stage: build, script: [a], only: [schedules]}
not-on-main: {stage: build, script: [a], except: [main]}
refs-and-variables: {stage: deploy, script: [a], only: {refs: [branches], variables: [$DEPLOY == "yes"]}}
except-variables: {stage: build, script: [a], except: {variables: [$SKIP]}}
except-changes: {stage: build, script: [a], except: {changes: [docs/*]}}
`);

  it('a branch: the default policy is branches and tags; names, regexes, except', async () => {
    expect(jobs(await plan(config, '--ref', 'dev'))).toEqual([
      'build: default-policy',
      'build: not-on-main',
      'build: except-variables',
      'deploy: named',
    ]);
    // except: {changes} with nothing to compare with counts as changed, so that job is out.
    expect(jobs(await plan(config, '--ref', 'main'))).toEqual(['build: default-policy', 'build: except-variables']);
    expect(jobs(await plan(config, '--ref', 'release-2'))).toContain('deploy: regex');
  });

  it('only refs AND variables; except refs OR variables OR changes', async () => {
    expect(jobs(await plan(config, '--ref', 'dev', '--var', 'DEPLOY=yes'))).toContain('deploy: refs-and-variables');
    expect(jobs(await plan(config, '--tag', 'v1', '--var', 'DEPLOY=yes'))).not.toContain('deploy: refs-and-variables');
    expect(jobs(await plan(config, '--ref', 'dev', '--var', 'SKIP=1'))).not.toContain('build: except-variables');
    expect(jobs(await plan(config, '--ref', 'dev', '--changed', 'docs/a.md'))).not.toContain('build: except-changes');
    expect(jobs(await plan(config, '--ref', 'dev', '--changed', 'src/a.ts'))).toContain('build: except-changes');
  });

  it('a tag, a merge request and a schedule', async () => {
    expect(jobs(await plan(config, '--tag', 'v1'))).toEqual([
      'build: default-policy',
      'build: not-on-main',
      'build: except-variables',
      'deploy: tags-only',
    ]);
    // A merge request pipeline is not a branch pipeline: only the merge_requests job (and the
    // except-only ones, whose default only is branches and tags, are out).
    expect(jobs(await plan(config, '--ref', 'dev', '--source', 'merge_request_event'))).toEqual(['build: mr-only']);
    expect(jobs(await plan(config, '--ref', 'main', '--source', 'schedule'))).toEqual([
      'build: default-policy',
      'build: schedules-only',
      'build: except-variables',
    ]);
  });
});

describe('shipway plan: composition', () => {
  it('local includes (nested, globbed), with the including file winning a deep merge', async () => {
    const dir = project({
      '.gitlab-ci.yml': `
include:
  - local: ci/base.yml
  - ci/jobs/*.yml
variables: {WHO: main}
unit: {variables: {EXTRA: "1"}}
`,
      'ci/base.yml': 'include: ci/nested.yml\nvariables: {WHO: base, ONLY_BASE: "yes"}\n',
      'ci/nested.yml': 'stages: [build, test]\n',
      'ci/jobs/unit.yml':
        'unit: {stage: test, script: [u], variables: {A: "a"}, rules: [{if: $WHO == "main" && $A == "a" && $EXTRA}]}\n',
      'ci/jobs/lint.yml': 'lint: {stage: build, script: [l], rules: [{if: $ONLY_BASE == "yes"}]}\n',
    });
    expect(jobs(await plan(dir, '--ref', 'main'))).toEqual(['build: lint', 'test: unit']);
  });

  it('anchors, merge keys, !reference and extends (deep merge, child wins, several parents)', async () => {
    const result = await plan(
      ci(`
.rules: &rules
  rules:
    - if: $CI_COMMIT_BRANCH == "main"
      when: manual
.setup:
  script: [setup]
  variables: {A: "1", B: "1"}
.other:
  variables: {B: "2", C: "3"}
  allow_failure: true
anchored:
  <<: *rules
  script: [a]
referenced:
  script:
    - !reference [.setup, script]
    - run
  rules: !reference [.rules, rules]
extended:
  extends: [.setup, .other]
  variables: {C: "child"}
  rules:
    - if: $A == "1" && $B == "2" && $C == "child"
`),
      '--ref',
      'main',
    );
    expect(jobs(result)).toEqual(['test: anchored (manual)', 'test: referenced (manual)', 'test: extended [may fail]']);
  });

  it('default: jobs inherit what they do not set, unless inherit:default says no', async () => {
    const result = await plan(
      ci(`
default:
  allow_failure: true
inherits: {script: [a]}
opts-out: {script: [a], inherit: {default: false}}
`),
      '--ref',
      'main',
    );
    // allow_failure is not a default keyword in GitLab, but the inheritance mechanics are what
    // this checks: the first job takes it, the second does not.
    expect(jobs(result)).toEqual(['test: inherits [may fail]', 'test: opts-out']);
  });

  it('dependencies must be in an earlier stage of this pipeline', async () => {
    const ok = await plan(
      ci('stages: [a, b]\none: {stage: a, script: [x]}\ntwo: {stage: b, script: [x], dependencies: [one]}\n'),
      '--ref',
      'main',
    );
    expect(ok.created).toBe(true);
  });
});

describe('shipway plan: errors with file and line', () => {
  it('reports every problem with its file and line, creates nothing, and exits 2', async () => {
    const result = await plan(
      {
        '.gitlab-ci.yml': `stages: [build, deploy]
include:
  - local: ci/missing.yml
.a:
  extends: .b
.b:
  extends: .a
wrong-stage:
  stage: nope
  script: [x]
no-script:
  stage: build
early:
  stage: build
  needs: [late]
  dependencies: [ghost]
  script: [x]
late:
  stage: deploy
  script: !reference [.nothing, script]
loop:
  extends: .a
  stage: build
  script: [x]
`,
      },
      '--ref',
      'main',
    );
    expect(result.code).toBe(2);
    expect(result.created).toBe(false);
    const errors = result.errors.map((error) => `${error.file}:${error.line} ${error.message}`);
    expect(errors).toEqual(
      expect.arrayContaining([
        '.gitlab-ci.yml:3 include: ci/missing.yml does not exist',
        '.gitlab-ci.yml:20 !reference [.nothing, script] points to nothing',
        expect.stringMatching(/^\.gitlab-ci\.yml:21 job loop: circular extends: loop → \.a → \.b → \.a$/),
        '.gitlab-ci.yml:9 job wrong-stage: chosen stage nope does not exist; available stages are .pre, build, deploy, .post',
        '.gitlab-ci.yml:11 job no-script: must have a script, run or trigger',
        '.gitlab-ci.yml:15 job early: needs names late, which is in a later stage (deploy)',
        '.gitlab-ci.yml:16 job early: dependencies names ghost, which is not a job in the config',
        // Entry::Job: with needs, every dependency must be one of the needs.
        '.gitlab-ci.yml:16 job early: dependencies the ghost should be part of needs',
      ]),
    );
    expect(errors).toHaveLength(8);
  });

  it('a need on a job the rules leave out of this pipeline is an error unless optional', async () => {
    const config = ci(`
stages: [a, b]
tagged: {stage: a, script: [x], rules: [{if: $CI_COMMIT_TAG}]}
needs-it: {stage: b, script: [x], needs: [tagged]}
optional: {stage: b, script: [x], needs: [{job: tagged, optional: true}]}
`);
    const branch = await plan(config, '--ref', 'main');
    expect(branch.errors.map((error) => error.message)).toEqual([
      'job needs-it: needs tagged, which is not in this pipeline (its rules exclude it); mark the need optional: true or align the rules',
    ]);
    expect((await plan(config, '--tag', 'v1')).created).toBe(true);
  });

  it('YAML syntax errors and bad expressions name the line', async () => {
    const broken = await shipway(project(ci('job:\n  script: [a\n')), ['plan', '--ref', 'main']);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/\.gitlab-ci\.yml:\d+: /);
    const expression = await plan(ci('job:\n  script: [a]\n  rules:\n    - if: $A === "x"\n'), '--ref', 'main');
    expect(expression.errors[0]).toMatchObject({ file: '.gitlab-ci.yml', line: 3 });
  });

  it('only and rules together are refused', async () => {
    const result = await plan(ci('job: {script: [a], rules: [{when: always}], only: [main]}\n'), '--ref', 'main');
    expect(result.errors[0]?.message).toBe('job job: only/except may not be used with rules');
  });
});

describe("shipway plan: this repository's .gitlab-ci.yml", () => {
  const repo = async (...args: string[]) => jobs(await plan(REPO_ROOT, ...args));

  it('dev builds once, publishes and deploys dev', async () => {
    expect(await repo('--ref', 'dev')).toEqual(['build: build', 'publish: publish', 'deploy-dev: deploy-dev']);
    const result = await plan(REPO_ROOT, '--ref', 'dev');
    expect(result.stages.map((stage) => stage.jobs.map((job) => job.needs))).toEqual([
      [null],
      [['build']],
      [['publish']],
    ]);
  });

  it('stage promotes dev’s image (no publish); prod has a blocking manual deploy and optional promote/rollback', async () => {
    expect(await repo('--ref', 'stage')).toEqual(['build: build', 'deploy-stage: deploy-stage']);
    expect(await repo('--ref', 'prod')).toEqual([
      'build: build',
      'deploy-prod: deploy-prod (manual)',
      'promote-prod: promote-prod (manual) [may fail]',
      'promote-prod: rollback-prod (manual) [may fail]',
    ]);
  });

  it('a feature branch and a tag only build; a merge request builds; a promotion commit starts nothing', async () => {
    expect(await repo('--ref', 'feature/login')).toEqual(['build: build']);
    expect(await repo('--tag', 'v1.0.0')).toEqual(['build: build']);
    expect(await repo('--ref', 'feature/login', '--source', 'merge_request_event')).toEqual(['build: build']);
    expect(await repo('--ref', 'feature/login', '--open-merge-request')).toEqual([]);
    const promotion = await plan(REPO_ROOT, '--ref', 'stage', '--message', '[skip ci] promote stage to hello:abc');
    expect(promotion.created).toBe(false);
  });
});

describe('shipway plan: the original pipeline', () => {
  const original = () =>
    project({
      '.gitlab-ci.yml': ORIGINAL_PIPELINE,
    });

  it('only: gives dev build, publish and the (wrong) deploy-dev; prod its manual jobs; merge requests nothing', async () => {
    const dir = original();
    expect(jobs(await plan(dir, '--ref', 'dev'))).toEqual([
      'build: build',
      'publish: publish',
      'deploy-dev: deploy-dev',
    ]);
    expect(jobs(await plan(dir, '--ref', 'prod'))).toEqual([
      'build: build',
      'publish: publish',
      'deploy-prod: deploy-prod (manual) [may fail]',
      'promote-prod: promote-prod (manual) [may fail]',
      'promote-prod: rollback-prod (manual) [may fail]',
    ]);
    expect(await plan(dir, '--ref', 'feature', '--source', 'merge_request_event')).toMatchObject({ created: false });
    expect(await plan(dir, '--tag', 'v1')).toMatchObject({ created: false });
  });
});
