import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { PipelineRecord, RunPipelineOptions } from '../../src/app/pipeline-run-model.js';
import { git } from '../support/git-fixture.js';
import { executeFixture, type FixturePipeline } from '../support/pipeline-fixture.js';

// SHIPWAY_REUSE: tree against what could make it reuse a result it must not (app/reuse-job.ts,
// app/job-results.ts, core/runner/result-key.ts, app/execute-pipeline.ts). Each of these probes
// failed before its fix. Variable precedence follows GitLab's docs (ci/variables, "CI/CD variable
// precedence": project variables and rules variables win over the job's own).

const root = mkdtempSync(join(tmpdir(), 'shipway-reuse-review-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function project(name: string, ci: string, files: Record<string, string> = {}): string {
  const dir = join(root, name);
  git(root, 'init', '--quiet', '--initial-branch=main', dir);
  writeFileSync(join(dir, '.gitlab-ci.yml'), ci);
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  git(dir, 'add', '-A');
  git(dir, 'commit', '--quiet', '-m', 'one');
  return dir;
}

const execute = (
  repository: string,
  from: Omit<FixturePipeline, 'root' | 'repository'>,
  options: Partial<RunPipelineOptions> = {},
) => executeFixture({ root, repository, ...from }, { yes: true, ...options });

const reusedRef = (record: PipelineRecord, job: string) => record.jobs.find((j) => j.name === job)?.reused?.ref;
const statusOf = (record: PipelineRecord, job: string) => record.jobs.find((j) => j.name === job)?.status;

describe('SHIPWAY_REUSE: no reuse where the result could differ', () => {
  it('a rule that sets SHIPWAY_REUSE to "" (rules variables win over job variables) stops reuse', async () => {
    const ran = join(root, 'p1-ran.log');
    const repo = project(
      'p1',
      `build:
  variables: {SHIPWAY_REUSE: tree}
  rules:
    - if: $CI_COMMIT_BRANCH == "prod"
      variables: {SHIPWAY_REUSE: ""}
    - when: on_success
  script: ['echo "build $CI_COMMIT_BRANCH pipeline=$CI_PIPELINE_ID reuse=[$SHIPWAY_REUSE]" >> ${ran}']
`,
    );
    const caches = join(root, 'p1-caches');
    await execute(repo, { ref: 'prod', caches });
    const prod = await execute(repo, { ref: 'prod', caches });
    // The prod job's own variables say SHIPWAY_REUSE="" (it reads the pipeline): it must run every time.
    expect(reusedRef(prod.record, 'build')).toBeUndefined();
  }, 60_000);

  it('a project variable SHIPWAY_REUSE="" (it wins over the job variable) stops reuse', async () => {
    const ran = join(root, 'p1b-ran.log');
    const repo = project(
      'p1b',
      `build:
  variables: {SHIPWAY_REUSE: tree}
  script: ['echo "build reuse=[$SHIPWAY_REUSE]" >> ${ran}']
`,
    );
    const caches = join(root, 'p1b-caches');
    const off = new Map([['SHIPWAY_REUSE', '']]);
    await execute(repo, { ref: 'dev', caches, outside: off });
    const again = await execute(repo, { ref: 'dev', caches, outside: off });
    expect(reusedRef(again.record, 'build')).toBeUndefined();
  }, 60_000);

  it('a result reused early in a pipeline may be pruned (50 kept) before a later job receives its artifacts: the pipeline has its own copy', async () => {
    const repo = project(
      'p2',
      `stages: [a, p, c]
a:
  stage: a
  variables: {SHIPWAY_REUSE: tree}
  script: ['mkdir -p out && echo from-a > out/a.txt']
  artifacts: {paths: [out/]}
p:
  stage: p
  parallel: 50
  variables: {SHIPWAY_REUSE: tree}
  rules: [{if: '$CI_COMMIT_BRANCH == "stage"'}]
  script: ['true']
c:
  stage: c
  dependencies: [a]
  script: ['cat out/a.txt']
`,
    );
    const caches = join(root, 'p2-caches');
    await execute(repo, { ref: 'dev', caches });
    let outcome: string;
    try {
      const stage = await execute(repo, { ref: 'stage', caches });
      expect(reusedRef(stage.record, 'a')).toBe('dev');
      outcome = `${statusOf(stage.record, 'c')}: ${stage.log('c').includes('from-a') ? 'has a.txt' : 'no a.txt'}`;
    } catch (error) {
      outcome = `executePipeline rejected: ${(error as Error).message}`;
    }
    expect(outcome).toBe('success: has a.txt');
  }, 180_000);

  it('the host environment: PATH, NODE_* and the locale are part of the key, the rest of the shell is not', async () => {
    const repo = project(
      'p3',
      `stages: [build, show]
build:
  stage: build
  variables: {SHIPWAY_REUSE: tree}
  script: ['mkdir -p out && echo "options=$NODE_OPTIONS mode=$BUILD_MODE" > out/mode.txt']
  artifacts: {paths: [out/]}
show:
  stage: show
  script: ['cat out/mode.txt']
`,
    );
    const caches = join(root, 'p3-caches');
    const env = (options: string, mode: string) => ({ ...process.env, NODE_OPTIONS: options, BUILD_MODE: mode });
    await execute(repo, { ref: 'dev', caches, env: env('--no-warnings', 'debug') });
    const options = await execute(repo, { ref: 'dev', caches, env: env('--trace-warnings', 'debug') });
    expect(reusedRef(options.record, 'build')).toBeUndefined();
    expect(options.log('show')).toContain('options=--trace-warnings');
    // BUILD_MODE is no input shipway knows of (run --help and the README say so): reused.
    const mode = await execute(repo, { ref: 'dev', caches, env: env('--trace-warnings', 'release') });
    expect(reusedRef(mode.record, 'build')).toBe('dev');
  }, 60_000);

  it('a project variable whose name starts with CI_ is part of the key', async () => {
    const repo = project(
      'p4',
      `stages: [build, show]
build:
  stage: build
  variables: {SHIPWAY_REUSE: tree}
  script: ['mkdir -p out && echo "target=$CI_DEPLOY_TARGET" > out/t.txt']
  artifacts: {paths: [out/]}
show:
  stage: show
  script: ['cat out/t.txt']
`,
    );
    const caches = join(root, 'p4-caches');
    await execute(repo, { ref: 'dev', caches, outside: new Map([['CI_DEPLOY_TARGET', 'eu']]) });
    const second = await execute(repo, { ref: 'dev', caches, outside: new Map([['CI_DEPLOY_TARGET', 'us']]) });
    expect(second.log('show')).toContain('target=us');
  }, 60_000);

  it('the mode of a received artifact file (executable or not) is part of the key', async () => {
    const modeFile = join(root, 'p5-mode');
    const repo = project(
      'p5',
      `stages: [make, check]
make:
  stage: make
  script: ['mkdir -p out && printf "#!/bin/sh\\necho tool ran\\n" > out/tool && chmod $(cat ${modeFile}) out/tool']
  artifacts: {paths: [out/]}
check:
  stage: check
  needs: [make]
  variables: {SHIPWAY_REUSE: tree}
  script: ['./out/tool']
`,
    );
    const caches = join(root, 'p5-caches');
    writeFileSync(modeFile, '755');
    const first = await execute(repo, { ref: 'dev', caches });
    expect(statusOf(first.record, 'check')).toBe('success');
    writeFileSync(modeFile, '644');
    const second = await execute(repo, { ref: 'dev', caches });
    // ./out/tool is not executable now: the job would fail.
    expect(statusOf(second.record, 'check')).toBe('failed');
  }, 60_000);
  it('--no-reuse runs the job and its success replaces the kept result', async () => {
    const repo = project(
      'p6',
      `stages: [build, show]
build:
  stage: build
  variables: {SHIPWAY_REUSE: tree}
  script: ['mkdir -p out && cat ${join(root, 'p6-input')} > out/v.txt']
  artifacts: {paths: [out/]}
show:
  stage: show
  script: ['cat out/v.txt']
`,
    );
    const caches = join(root, 'p6-caches');
    // A first run whose result the user distrusts (an input from outside the tree, a flaky pass).
    writeFileSync(join(root, 'p6-input'), 'value=stale\n');
    await execute(repo, { ref: 'dev', caches });
    writeFileSync(join(root, 'p6-input'), 'value=fresh\n');
    const forced = await execute(repo, { ref: 'dev', caches }, { reuse: false });
    expect(forced.log('show')).toContain('value=fresh');
    const next = await execute(repo, { ref: 'dev', caches });
    expect(next.log('show')).toContain('value=fresh');
  }, 60_000);
});
