import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SHIPWAY_VERSION } from '../src/version.js';
import { REPO_ROOT } from './support/git-fixture.js';
import { shipway } from './support/run-shipway.js';

// `shipway plan` on configs with spec:inputs and includes from outside the repository, read from
// the include directory. Each test names the GitLab documentation section it follows.

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Plan {
  created: boolean;
  reason: string | null;
  errors: { file: string; line: number; message: string }[];
  notes: string[];
  stages: { name: string; jobs: { name: string; when: string; stage: string; needs: string[] | null }[] }[];
}

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'shipway-plan-includes-'));
  dirs.push(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

async function plan(dir: string, ...args: string[]): Promise<Plan & { code: number; stderr: string }> {
  const run = await shipway(dir, ['plan', '--json', '--default-branch', 'main', ...args]);
  if (run.stdout === '') throw new Error(run.stderr);
  return { ...(JSON.parse(run.stdout) as Plan), code: run.code, stderr: run.stderr };
}

const names = (result: Plan) => result.stages.flatMap((stage) => stage.jobs.map((job) => job.name));
const errors = (result: Plan) => result.errors.map((error) => `${error.file}:${error.line} ${error.message}`);

const SCAN = `spec:
  inputs:
    job-prefix:
      description: a prefix for the job name
    job-stage:
      default: test
    environment:
      options: [test, staging, production]
    concurrency:
      type: number
      default: 1
    version:
      type: string
      regex: ^v\\d\\.\\d+(\\.\\d+)$
    export_results:
      type: boolean
      default: true
    tags:
      type: array
      default: [docker, linux]
---
"$[[ inputs.job-prefix ]]-scan":
  stage: $[[ inputs.job-stage ]]
  tags: $[[ inputs.tags ]]
  variables:
    CONCURRENCY: $[[ inputs.concurrency ]]
    RUN_NAME: "scan $[[ inputs.environment | truncate(0,4) ]] $[[ inputs.version ]]"
    PROJECT: $[[ inputs.job-prefix | expand_vars ]]
  script:
    - echo $[[ inputs.version | posix_escape ]]
  rules:
    - if: $RUN_NAME == "scan stag v1.3.2" && $CONCURRENCY == "2" && $PROJECT == "svc"
`;

describe('spec:inputs and include:inputs (docs: ci/inputs "Define input parameters with spec:inputs", "Set input values")', () => {
  it('an included file with a header gets its inputs: defaults, typed values, options, regex and the documented functions', async () => {
    const dir = project({
      'scan.yml': SCAN,
      '.gitlab-ci.yml': `include:
  - local: scan.yml
    inputs:
      job-prefix: $CI_PROJECT_NAME
      environment: staging
      concurrency: 2
      version: v1.3.2
`,
    });
    const result = await plan(dir, '--ref', 'main', '--var', 'CI_PROJECT_NAME=svc');
    expect(errors(result)).toEqual([]);
    // job-prefix is $CI_PROJECT_NAME unexpanded in the job name; expand_vars expands it in PROJECT,
    // truncate(0,4) cuts staging to stag, and a number input is text inside a string: the rule holds.
    expect(result.stages).toEqual([
      { name: 'test', jobs: [expect.objectContaining({ name: '$CI_PROJECT_NAME-scan' })] },
    ]);
  });

  it('a bad or missing input is a config error at the include, a bad default at its spec line; nothing else is reported', async () => {
    const dir = project({
      'scan.yml': SCAN.replace('default: 1', 'default: one'),
      '.gitlab-ci.yml': `stages: [test]
include:
  - local: scan.yml
    inputs:
      environment: qa
      version: 1.3
      unknown: x
`,
    });
    const result = await plan(dir, '--ref', 'main');
    expect(result.code).toBe(2);
    expect(errors(result)).toEqual([
      '.gitlab-ci.yml:3 include: scan.yml: unknown input arguments: unknown',
      '.gitlab-ci.yml:3 include: scan.yml: `job-prefix` input: required value has not been provided',
      '.gitlab-ci.yml:3 include: scan.yml: `environment` input: `qa` cannot be used because it is not in the list of allowed options',
      'scan.yml:9 include: scan.yml: `concurrency` input: default value is not a number',
      '.gitlab-ci.yml:3 include: scan.yml: `version` input: provided value is not a string',
    ]);
  });

  it('the main file may start with a spec header (pipeline inputs): defaults, --input, and a missing one at its line', async () => {
    const dir = project({
      '.gitlab-ci.yml': `spec:
  inputs:
    environment:
      default: staging
    replicas:
      type: number
---
deploy-$[[ inputs.environment ]]:
  script:
    - deploy --replicas $[[ inputs.replicas ]]
`,
    });
    const missing = await plan(dir, '--ref', 'main');
    expect(errors(missing)).toEqual([
      '.gitlab-ci.yml:5 spec:inputs: `replicas` input: required value has not been provided',
    ]);
    const given = await plan(dir, '--ref', 'main', '--input', 'replicas=3', '--input', 'environment=prod');
    expect(names(given)).toEqual(['deploy-prod']);
    const wrongType = await plan(dir, '--ref', 'main', '--input', 'replicas=three');
    expect(errors(wrongType)).toEqual([
      '.gitlab-ci.yml:5 spec:inputs: `replicas` input: provided value is not a number',
    ]);
  });

  it('three YAML documents are a config error at line 1, not a crash (found by fuzzing: a TypeError before)', async () => {
    const dir = project({ '.gitlab-ci.yml': 'spec:\n  inputs: {}\n---\na: {script: [x]}\n---\nb: {script: [y]}\n' });
    const run = await shipway(dir, ['plan', '--ref', 'main']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/\.gitlab-ci\.yml:1: the file has 3 YAML documents; GitLab reads at most 2/);
  });

  it('inputs given to a file without a header are an error; a header without --- is not a header', async () => {
    const dir = project({
      'plain.yml': 'plain:\n  script: [x]\n',
      '.gitlab-ci.yml': 'include:\n  - local: plain.yml\n    inputs:\n      a: b\n',
    });
    const result = await plan(dir, '--ref', 'main');
    expect(errors(result)).toEqual([
      '.gitlab-ci.yml:2 include: plain.yml: inputs are given, but the file has no spec:inputs header to declare them',
    ]);
  });
});

const COMPONENT = `spec:
  inputs:
    stage:
      default: test
    targets:
      type: array
      default: [linux]
---
include:
  - local: templates/shared.yml
"build-$[[ component.name ]]":
  extends: .shared
  stage: $[[ inputs.stage ]]
  parallel:
    matrix:
      - TARGET: $[[ inputs.targets ]]
`;

describe('include:component from the include directory (docs: ci/components "Use a component", "Directory structure")', () => {
  it('templates/<name>.yml of the component project at the version, with its own local includes read from that project', async () => {
    const dir = project({
      '.shipway/includes/projects/acme/ci@1.2.0/templates/build.yml': COMPONENT,
      '.shipway/includes/projects/acme/ci@1.2.0/templates/shared.yml': '.shared:\n  script: [make]\n',
      '.gitlab-ci.yml': `include:
  - component: $CI_SERVER_FQDN/acme/ci/build@1.2.0
    inputs:
      stage: build
      targets: [linux, darwin]
`,
    });
    const result = await plan(dir, '--ref', 'main');
    expect(errors(result)).toEqual([]);
    expect(names(result)).toEqual(['build-build: [linux]', 'build-build: [darwin]']);
    expect(result.stages[0]?.name).toBe('build');
  });

  it('a directory component (templates/<name>/template.yml) and --include-dir elsewhere', async () => {
    const dir = project({
      'vendored/projects/acme/ci@~latest/templates/build/template.yml': COMPONENT.replace(
        'include:\n  - local: templates/shared.yml\n',
        '.shared:\n  script: [make]\n',
      ),
      '.gitlab-ci.yml': 'include:\n  - component: gitlab.example.com/acme/ci/build@~latest\n',
    });
    const result = await plan(dir, '--ref', 'main', '--include-dir', 'vendored');
    expect(errors(result)).toEqual([]);
    expect(names(result)).toEqual(['build-build: [linux]']);
  });

  it("shipway's own deliver component is read from the installed package when the directory lacks it, and says so", async () => {
    const dir = project({
      '.gitlab-ci.yml': `include:\n  - component: $CI_SERVER_FQDN/my-group/shipway/deliver@${SHIPWAY_VERSION}\n    inputs:\n      app: hello\n`,
    });
    const result = await plan(dir, '--ref', 'dev');
    expect(errors(result)).toEqual([]);
    expect(names(result)).toEqual(['build', 'publish', 'deploy: [dev]']);
    expect(result.notes).toEqual([expect.stringMatching(/shipway's own component, read from the installed shipway/)]);
    // The package's copy is the canonical templates/deliver.yml.
    expect(readFileSync(join(REPO_ROOT, 'templates/deliver.yml'), 'utf8')).toContain('deploy: [dev]');
  });
});

describe('includes that cannot be read offline (docs: ci/yaml/includes "Use nested includes")', () => {
  it('a missing remote include is exactly one error naming it and how to provide it, whatever depends on it', async () => {
    const jobs = Array.from(
      { length: 40 },
      (_, index) =>
        `job-${index}:\n  extends: .remote-template\n  script: !reference [.remote-script, script]\n  needs: [remote-job]\n`,
    ).join('');
    const dir = project({
      '.gitlab-ci.yml': `include:
  - remote: https://example.com/ci/shared.yml
stages: [build, test]
own:
  stage: build
  script: [make]
from-stage:
  stage: remote-stage
  script: [x]
${jobs}`,
    });
    const result = await plan(dir, '--ref', 'main');
    expect(result.code).toBe(2);
    expect(result.errors).toHaveLength(1);
    const [error] = result.errors;
    expect(`${error?.file}:${error?.line}`).toBe('.gitlab-ci.yml:2');
    expect(error?.message).toMatch(
      /^include: remote https:\/\/example\.com\/ci\/shared\.yml is not available offline: put it at \.shipway\/includes\/remote\/example\.com\/ci\/shared\.yml .*shipway includes fetch/,
    );
    expect(error?.message).toMatch(
      /41 jobs left out of the plan depend on what it would define \(.*extends \.remote-template/,
    );
    expect(error?.message).toMatch(/stage remote-stage/);
  });
});

describe('include:rules (docs: ci/yaml/includes "Use rules with include")', () => {
  it('if, exists and when: never decide whether each include applies, with the variables include may use', async () => {
    const dir = project({
      'builds.yml': 'build:\n  script: [b]\n',
      'deploys.yml': 'deploy:\n  stage: deploy\n  script: [d]\n',
      'docs.yml': 'docs:\n  script: [d]\n',
      Dockerfile: 'FROM scratch\n',
      '.gitlab-ci.yml': `variables:
  FILE_VARIABLE: "true"
include:
  - local: builds.yml
    rules:
      - if: $DONT_INCLUDE_BUILDS == "true"
        when: never
      - when: always
  - local: deploys.yml
    rules:
      - if: $CI_COMMIT_BRANCH == "main"
  - local: docs.yml
    rules:
      - exists: [Dockerfile]
        if: $FILE_VARIABLE == "true"
      - exists: [Dockerfile]
`,
    });
    expect(names(await plan(dir, '--ref', 'main'))).toEqual(['build', 'docs', 'deploy']);
    expect(names(await plan(dir, '--ref', 'feature'))).toEqual(['build', 'docs']);
    expect(names(await plan(dir, '--ref', 'main', '--var', 'DONT_INCLUDE_BUILDS=true'))).toEqual(['docs', 'deploy']);
  });
});
