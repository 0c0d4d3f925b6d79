import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ORIGINAL_PIPELINE } from './support/fixtures.js';
import { REPO_ROOT } from './support/git-fixture.js';
import { shipway } from './support/run-shipway.js';

interface Finding {
  severity: 'error' | 'warning';
  rule: string;
  message: string;
  file: string;
  line: number;
  job: string | null;
}
interface LintJson {
  errors: number;
  warnings: number;
  branches: Record<string, string[]>;
  findings: Finding[];
}

const ORIGINAL = ORIGINAL_PIPELINE;
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A project with this repository's shipway.yaml (dev, stage, prod) and the given CI config. */
function projectWith(ci: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'shipway-lint-'));
  dirs.push(dir);
  cpSync(join(REPO_ROOT, 'shipway.yaml'), join(dir, 'shipway.yaml'));
  writeFileSync(join(dir, '.gitlab-ci.yml'), ci);
  return dir;
}

async function lint(dir: string): Promise<LintJson & { code: number; stderr: string }> {
  const run = await shipway(dir, ['lint', '--json']);
  return { ...(JSON.parse(run.stdout) as LintJson), code: run.code, stderr: run.stderr };
}

/** The line of a job's `script:` in the original file. */
function scriptLineOf(job: string): number {
  const lines = ORIGINAL.split('\n');
  const start = lines.indexOf(`${job}:`);
  return lines.findIndex((line, index) => index > start && line.startsWith('  script:')) + 1;
}

const rulesOf = (findings: Finding[], job: string) =>
  findings
    .filter((finding) => finding.job === job)
    .map((finding) => `${finding.severity} ${finding.rule}`)
    .sort();

describe("shipway lint on this repository's pipeline", () => {
  it('passes: no errors, no warnings, every environment branch planned', async () => {
    const result = await lint(REPO_ROOT);
    expect(result.findings).toEqual([]);
    expect(result.code).toBe(0);
    expect(result.branches).toEqual({
      dev: ['build', 'publish', 'deploy-dev'],
      stage: ['build', 'deploy-stage'],
      prod: ['build', 'deploy-prod', 'promote-prod', 'rollback-prod'],
    });
  });
});

describe('shipway lint on the original pipeline', () => {
  it('reports the deploy-dev branch mistake, with its file and line, and exits 2', async () => {
    const result = await lint(projectWith(ORIGINAL));
    expect(result.code).toBe(2);
    const wrong = result.findings.filter((finding) => finding.rule === 'wrong-environment');
    expect(wrong).toEqual([
      {
        severity: 'error',
        rule: 'wrong-environment',
        message: 'job deploy-dev: deploys dev but writes stage: branch stage, overlay deployment/stage',
        file: '.gitlab-ci.yml',
        line: scriptLineOf('deploy-dev'),
        job: 'deploy-dev',
      },
    ]);
    expect(result.stderr).toContain('lint found');
  });

  it('and the other mistakes: credentials in the URL, curl | bash, moving tools and images, only/except, no environment', async () => {
    const result = await lint(projectWith(ORIGINAL));
    expect(rulesOf(result.findings, 'deploy-dev')).toEqual([
      'error credentials-in-url',
      'error curl-pipe-shell',
      'error deploy-without-environment',
      'error unpinned-image',
      'error unpinned-tool',
      'error wrong-environment',
      'warning deploy-without-resource-group',
      'warning deprecated-only-except',
    ]);
    // node:18 is a version the author chose, not a moving channel: no image finding.
    expect(rulesOf(result.findings, 'build')).toEqual(['warning deprecated-only-except']);
    expect(rulesOf(result.findings, 'promote-prod')).toEqual([
      'error unpinned-image',
      'warning deprecated-only-except',
    ]);
    const images = result.findings.filter((finding) => finding.rule === 'unpinned-image').map((f) => f.message);
    expect(images).toEqual(
      expect.arrayContaining([
        expect.stringContaining('image gcr.io/kaniko-project/executor:debug uses the moving tag debug'),
        expect.stringContaining('image alpine:latest is not pinned'),
        expect.stringContaining('image amazon/aws-cli is not pinned (no tag)'),
      ]),
    );
    for (const finding of result.findings) expect(finding.line).toBeGreaterThan(0);
  });

  it('the same pipeline with deploy-dev writing dev has no wrong-environment finding', async () => {
    const fixed = ORIGINAL.replace(
      /(deploy-dev:[\s\S]*?)git checkout -B stage\n(\s+)- cd deployment\/stage([\s\S]*?)git push origin stage/,
      '$1git checkout -B dev\n$2- cd deployment/dev$3git push origin dev',
    );
    expect(fixed).not.toBe(ORIGINAL);
    const result = await lint(projectWith(fixed));
    expect(result.findings.filter((finding) => finding.rule === 'wrong-environment')).toEqual([]);
  });
});

describe('shipway lint: planner errors', () => {
  it('reports what GitLab would refuse, with file and line, on the branches it plans', async () => {
    const result = await lint(
      projectWith(`stages: [build]
build:
  stage: build
  image: node:24.11.1-bookworm-slim
  script: [npm test]
deploy-dev:
  stage: deploy
  image: node:24.11.1-bookworm-slim
  environment: dev
  resource_group: dev
  needs: [build]
  script: [npx shipway promote dev]
`),
    );
    expect(result.code).toBe(2);
    expect(result.findings).toEqual([
      expect.objectContaining({
        severity: 'error',
        rule: 'config',
        line: 7,
        message: expect.stringMatching(/^job deploy-dev: chosen stage deploy does not exist/),
      }),
    ]);
  });
});

describe('shipway lint: which jobs deploy comes from declared data, not the job name', () => {
  const lintJobs = async (jobs: string) =>
    (await lint(projectWith(`stages: [deploy]\n${jobs}`))).findings.map((f) => `${f.job} ${f.severity} ${f.rule}`);

  it('a job named deploy-x with no environment and no deploy command is not a deploy', async () => {
    expect(
      await lintJobs('deploy-x:\n  stage: deploy\n  image: node:24.11.1-bookworm-slim\n  script: [echo hi]\n'),
    ).toEqual([]);
  });

  it('a job named ship-it with environment: prod is a deploy (no resource_group: warning)', async () => {
    expect(
      await lintJobs(
        'ship-it:\n  stage: deploy\n  image: node:24.11.1-bookworm-slim\n  environment: prod\n  script: [./ship.sh]\n',
      ),
    ).toEqual(['ship-it warning deploy-without-resource-group']);
  });

  it('environment: {action: access} is no deployment (GitLab environment:action); SHIPWAY_ACTION: deploy and `npx shipway promote "$ENV"` are', async () => {
    expect(
      await lintJobs(`check:
  stage: deploy
  image: node:24.11.1-bookworm-slim
  environment: {name: prod, action: access}
  script: [./check.sh]
release:
  stage: deploy
  image: node:24.11.1-bookworm-slim
  variables: {SHIPWAY_ACTION: deploy}
  script: [./release.sh]
go:
  stage: deploy
  image: node:24.11.1-bookworm-slim
  script: ['npx shipway promote "$TARGET" --dotenv deploy.env']
`),
    ).toEqual([
      'release error deploy-without-environment',
      'release warning deploy-without-resource-group',
      'go error deploy-without-environment',
      'go warning deploy-without-resource-group',
    ]);
  });
  it('SHIPWAY_REUSE: tree on a build is fine, on a deploy an error, any other value a warning; an unknown SHIPWAY_ACTION a warning', async () => {
    expect(
      await lintJobs(`build:
  stage: deploy
  image: node:24.11.1-bookworm-slim
  variables: {SHIPWAY_REUSE: tree}
  script: [npm test]
ship:
  stage: deploy
  image: node:24.11.1-bookworm-slim
  environment: prod
  resource_group: prod
  variables: {SHIPWAY_REUSE: tree}
  script: [./ship.sh]
test:
  stage: deploy
  image: node:24.11.1-bookworm-slim
  variables: {SHIPWAY_REUSE: "yes"}
  script: [npm test]
undo:
  stage: deploy
  image: node:24.11.1-bookworm-slim
  when: manual
  variables: {SHIPWAY_ACTION: rolback}
  script: [./undo.sh]
`),
    ).toEqual(['ship error reused-deploy', 'test warning unknown-reuse', 'undo warning unknown-action']);
  });
});
