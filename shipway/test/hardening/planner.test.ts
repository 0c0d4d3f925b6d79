import { type ChildProcess, spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { planJson } from '../../src/cli/commands/plan.js';
import { ShipwayError } from '../../src/core/errors.js';
import type { CiValue, SourceLocation } from '../../src/core/pipeline/ci-yaml.js';
import { includeContextFor } from '../../src/core/pipeline/include-context.js';
import { includeDirPaths } from '../../src/core/pipeline/include-paths.js';
import { lintPipeline } from '../../src/core/pipeline/lint-pipeline.js';
import {
  type CiSources,
  type ExternalIncludes,
  loadChildConfig,
  loadCiConfig,
} from '../../src/core/pipeline/load-ci-config.js';
import { planPipeline } from '../../src/core/pipeline/plan-pipeline.js';
import type { PipelineTrigger } from '../../src/core/pipeline/predefined-variables.js';
import { generateCase } from '../support/ci-fuzz.js';
import { startFakeGitLab } from '../support/fake-gitlab.js';
import { REPO_ROOT } from '../support/git-fixture.js';
import { cleanEnv, SHIPWAY_BIN, shipway } from '../support/run-shipway.js';
import { startRegistryProcess } from '../support/start-registry-process.js';

// Probes of `shipway plan` / `shipway lint` from a careless user and from an attacker: regexes
// that backtrack, configs that multiply when expanded, includes that reach out of the repository,
// absolute paths, signals during CPU-bound work, and lint's image rule on other people's configs.
const MEASURE = fileURLToPath(new URL('../support/measure-cli.mjs', import.meta.url));
const dirs: string[] = [];
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'shipway-hardening-planner-'));
  dirs.push(dir);
  return dir;
}

/** A repository at <temp>/repo with these files; <temp> itself is outside it. */
function project(files: Record<string, string>): string {
  const repo = join(tempDir(), 'repo');
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(repo, path)), { recursive: true });
    writeFileSync(join(repo, path), text);
  }
  return repo;
}

interface Measured {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The CLI's own time (modules and command), its CPU time and the process's peak RSS; undefined if it never finished. */
  readonly ms?: number;
  readonly cpuMs?: number;
  readonly maxRssKb?: number;
  readonly wallMs: number;
}

/** The built CLI as a real process (support/measure-cli.mjs), killed after `limitMs`. */
function measured(cwd: string, args: readonly string[], limitMs = 15_000): Promise<Measured> {
  const started = performance.now();
  const child = spawn(process.execPath, [MEASURE, ...args], { cwd, env: cleanEnv() });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  return new Promise((resolve) => {
    child.once('close', (code) => {
      clearTimeout(timer);
      const line = /^@measure (.*)$/m.exec(stderr)?.[1];
      const figures = line === undefined ? {} : (JSON.parse(line) as { ms: number; cpuMs: number; maxRssKb: number });
      resolve({ code, stdout, stderr, ...figures, wallMs: performance.now() - started });
    });
  });
}

/** Exit 2 with an error naming file and line, in under 2 s and 200 MB (the figures are printed). */
function expectRefusedQuickly(name: string, run: Measured, error: RegExp): void {
  const mb = run.maxRssKb === undefined ? 'n/a' : (run.maxRssKb / 1024).toFixed(0);
  console.log(
    `${name}: exit ${run.code}; ${run.ms?.toFixed(0) ?? 'did not finish'} ms in the CLI, ${run.cpuMs?.toFixed(0)} ms CPU, ${run.wallMs.toFixed(0)} ms with Node start-up; peak RSS ${mb} MB`,
  );
  expect(run.stderr).toMatch(error);
  expect(run.code).toBe(2);
  expect(run.ms).toBeLessThan(2000);
  expect(run.maxRssKb).toBeLessThan(200 * 1024);
}

interface PlanJson {
  created: boolean;
  errors: { file: string; line: number; message: string }[];
  stages: { name: string; jobs: { name: string }[] }[];
}

async function plan(repo: string, ...args: string[]): Promise<PlanJson & { code: number; stderr: string }> {
  const run = await shipway(repo, ['plan', '--json', '--default-branch', 'main', ...args]);
  if (run.stdout === '') throw new Error(run.stderr);
  return { ...(JSON.parse(run.stdout) as PlanJson), code: run.code, stderr: run.stderr };
}

const jobNames = (result: PlanJson) => result.stages.flatMap((stage) => stage.jobs.map((job) => job.name));
const errorLines = (result: PlanJson) => result.errors.map((error) => `${error.file}:${error.line} ${error.message}`);

// lib/gitlab/untrusted_regexp.rb, untrusted_regexp/ruby_syntax.rb and expression/lexeme/pattern.rb:
// `=~` patterns and regex refs are RE2 patterns, `/flags` (i, m, s, U) put in front as `(?flags)`.
describe('CI regexes are RE2 patterns, as GitLab evaluates them (docs: ci/jobs/job_rules, "Compare a variable to a regular expression")', () => {
  it('a nested quantifier on a 40-character value takes linear time; a backreference is a config error with its line', async () => {
    const repo = project({
      '.gitlab-ci.yml': `variables:
  ALMOST: "${'a'.repeat(39)}b"
  ALL: "${'a'.repeat(40)}"
nested:
  script: [a]
  rules:
    - if: $ALMOST =~ /^(a+)+$/
nested-match:
  script: [a]
  rules:
    - if: $ALL =~ /^(a+)+$/
backreference:
  script: [a]
  rules:
    - if: $ALMOST =~ /^(a+)\\1$/
`,
    });
    const run = await measured(repo, ['plan', '--ref', 'main', '--json']);
    expectRefusedQuickly(
      'nested quantifier and a backreference',
      run,
      /\.gitlab-ci\.yml:14: job backreference: rules: invalid regex/,
    );
    const result = JSON.parse(run.stdout) as PlanJson;
    expect(jobNames(result)).toEqual(['nested-match']);
  });

  it('lookahead, in rules:if or an only ref, is an error on every branch, even where an earlier rule matched', async () => {
    const repo = project({
      '.gitlab-ci.yml': `job:
  script: [a]
  rules:
    - if: $CI_COMMIT_BRANCH == "main"
    - if: $CI_COMMIT_BRANCH =~ /^(?!main$)/
refs:
  script: [a]
  only: ['/^release-(?=1)/']
`,
    });
    for (const ref of ['main', 'release-1']) {
      const result = await plan(repo, '--ref', ref);
      expect(result.code).toBe(2);
      expect(errorLines(result)).toEqual([
        expect.stringMatching(/^\.gitlab-ci\.yml:3 job job: rules: invalid regex \/\^\(\?!main\$\)\/: .*lookaround/),
        expect.stringMatching(/^\.gitlab-ci\.yml:8 job refs: only: invalid regex/),
      ]);
    }
  });

  it('flags: /i ignores case, /m makes ^ and $ match at line ends (RE2, not Ruby), /s lets . match a newline, /U is accepted', async () => {
    const repo = project({
      '.gitlab-ci.yml': `
insensitive: {script: [a], rules: [{if: $CI_COMMIT_BRANCH =~ /^MAIN$/i}]}
multi-line: {script: [a], rules: [{if: $CI_COMMIT_MESSAGE =~ /^deploy$/m}]}
no-multi-line: {script: [a], rules: [{if: $CI_COMMIT_MESSAGE =~ /^deploy$/}]}
dot-all: {script: [a], rules: [{if: $CI_COMMIT_MESSAGE =~ /fix.deploy/s}]}
dot-not-newline: {script: [a], rules: [{if: $CI_COMMIT_MESSAGE =~ /fix.deploy/}]}
lazy: {script: [a], rules: [{if: $CI_COMMIT_MESSAGE =~ /^fi.+?$/mU}]}
`,
    });
    const result = await plan(repo, '--ref', 'main', '--message', 'fix\ndeploy');
    expect(result.errors).toEqual([]);
    expect(jobNames(result)).toEqual(['insensitive', 'multi-line', 'dot-all', 'lazy']);
  });
});

/** `.a: &a [lol × 9]`, `.b: &b [*a × 9]`, … nine levels: 9^9 × "lol" once expanded. */
function billionLaughs(): string[] {
  const names = 'abcdefghi';
  const lines = [`.a: &a [${Array(9).fill('"lol"').join(', ')}]`];
  for (let level = 1; level < names.length; level += 1)
    lines.push(
      `.${names[level]}: &${names[level]} [${Array(9)
        .fill(`*${names[level - 1]}`)
        .join(', ')}]`,
    );
  return lines;
}

// lib/gitlab/config/loader/yaml.rb (max_yaml_size_bytes, 2 MB since 17.3; max_yaml_depth 100,
// measured by Gitlab::Utils::DeepSize with aliases counted each time) and ci_max_includes (150).
describe("expansion is bounded by GitLab's YAML limits", () => {
  it('twelve levels of $V1$V1$V1$V1 end with exit 2 and the line of the variable that passes 2 MiB', async () => {
    const lines = ['variables:', `  V1: "${'x'.repeat(200)}"`];
    for (let level = 2; level <= 12; level += 1) lines.push(`  V${level}: "${`$V${level - 1}`.repeat(4)}"`);
    const repo = project({ '.gitlab-ci.yml': `${lines.join('\n')}\njob:\n  script: [echo $V12]\n` });
    const run = await measured(repo, ['plan', '--ref', 'main']);
    expectRefusedQuickly(
      '12-level variable expansion',
      run,
      /\.gitlab-ci\.yml:9: variable V8: expands to more than 2 MiB/,
    );
  });

  it('an alias bomb used as a variable value ends with exit 2 at the line where it passes the limit', async () => {
    const text = [...billionLaughs(), 'variables:', '  V: *i', 'job:', '  script: [echo $V]'].join('\n');
    const repo = project({ '.gitlab-ci.yml': `${text}\n` });
    const run = await measured(repo, ['plan', '--ref', 'main']);
    expectRefusedQuickly('alias bomb', run, /\.gitlab-ci\.yml:6: \.f: the parsed YAML is too big/);
  });

  it('!reference lists spliced into lists, ten levels deep, end with exit 2 at the reference', async () => {
    const lines = [`.l0: [${Array(10).fill('x').join(', ')}]`];
    for (let level = 1; level < 10; level += 1)
      lines.push(
        `.l${level}: [${Array(10)
          .fill(`!reference [.l${level - 1}]`)
          .join(', ')}]`,
      );
    const repo = project({ '.gitlab-ci.yml': `${lines.join('\n')}\njob:\n  script: !reference [.l9]\n` });
    const run = await measured(repo, ['plan', '--ref', 'main']);
    expectRefusedQuickly(
      '!reference bomb',
      run,
      /\.gitlab-ci\.yml:\d+: !reference \[\.l\d\]: the references bring in more than/,
    );
  });

  it('a variable whose value is a list or a map is a config error (Ci::Config::Entry::Variable: a string or a hash)', async () => {
    const result = await plan(
      project({
        '.gitlab-ci.yml':
          'variables:\n  LIST: [a, b]\n  NESTED: {value: [a]}\n  FINE: {value: "1", expand: false}\njob:\n  script: [a]\n',
      }),
      '--ref',
      'main',
    );
    expect(errorLines(result)).toEqual([
      ".gitlab-ci.yml:2 variables: LIST: a variable's value must be a string or a number, not a list",
      ".gitlab-ci.yml:3 variables: NESTED: a variable's value must be a string or a number, not a list",
    ]);
  });

  it('aliases nested deeper than 100 levels, a file over 2 MiB and more than 150 includes are refused with their lines', async () => {
    const chain = ['.a0: &a0 [x]'];
    for (let level = 1; level <= 120; level += 1) chain.push(`.a${level}: &a${level} [*a${level - 1}]`);
    const deep = await shipway(project({ '.gitlab-ci.yml': `${chain.join('\n')}\njob: {script: [a], x: *a120}\n` }), [
      'plan',
      '--ref',
      'main',
    ]);
    expect(deep.code).toBe(2);
    expect(deep.stderr).toMatch(
      /\.gitlab-ci\.yml:\d+: \.a\d+: the parsed YAML is too deep: nested deeper than 100 levels/,
    );

    const huge = await shipway(project({ '.gitlab-ci.yml': `job: {script: ["${'x'.repeat(2.1 * 1024 * 1024)}"]}\n` }), [
      'plan',
      '--ref',
      'main',
    ]);
    expect(huge.code).toBe(2);
    expect(huge.stderr).toContain(".gitlab-ci.yml:1: the file is larger than 2 MiB (GitLab's max_yaml_size_bytes)");

    const files: Record<string, string> = { '.gitlab-ci.yml': "include: 'ci/*.yml'\n" };
    for (let index = 0; index < 152; index += 1)
      files[`ci/job-${String(index).padStart(3, '0')}.yml`] = `j${index}: {script: [a]}\n`;
    const many = await plan(project(files), '--ref', 'main');
    expect(many.code).toBe(2);
    expect(errorLines(many)).toEqual([
      ".gitlab-ci.yml:1 include: more than 150 files are included (GitLab's ci_max_includes); ci/job-150.yml is not read",
    ]);
  });
});

// https://docs.gitlab.com/ci/yaml/#includelocal and lib/gitlab/ci/config/external/file/local.rb:
// a local include is a file of the project's repository at the pipeline's commit.
describe('local includes stay inside the repository', () => {
  it('../outside.yml (map or string), /../../etc/passwd and --file ../outside.yml are refused; nothing outside is read', async () => {
    const repo = project({
      '.gitlab-ci.yml': `include:
  - local: ../outside.yml
  - ../outside.yml
  - /../../etc/passwd
job: {script: [a]}
`,
    });
    writeFileSync(join(repo, '..', 'outside.yml'), 'outside-job: {script: [leak]}\n');
    const result = await plan(repo, '--ref', 'main');
    expect(result.code).toBe(2);
    expect(jobNames(result)).toEqual(['job']);
    expect(errorLines(result)).toEqual([
      '.gitlab-ci.yml:2 include: ../outside.yml is outside the repository; a local include is a path from the repository root',
      '.gitlab-ci.yml:3 include: ../outside.yml is outside the repository; a local include is a path from the repository root',
      '.gitlab-ci.yml:4 include: /../../etc/passwd is outside the repository; a local include is a path from the repository root',
    ]);
    const file = await shipway(repo, ['plan', '--ref', 'main', '--file', '../outside.yml']);
    expect(file.code).toBe(2);
    expect(file.stdout).not.toContain('outside-job');
    expect(file.stderr).toContain('--file ../outside.yml is not a file in the repository');
  });

  it('a symlink to a file outside is refused, named or globbed; a symlink inside the repository is followed', async () => {
    const repo = project({
      '.gitlab-ci.yml': 'include:\n  - local: ci/link.yml\n  - local: "ci/*.yml"\njob: {script: [a]}\n',
      'ci/real.yml': 'inner-job: {script: [a]}\n',
    });
    writeFileSync(join(repo, '..', 'secret.yml'), 'leaked-job: {script: [leak]}\n');
    symlinkSync(join(repo, '..', 'secret.yml'), join(repo, 'ci/link.yml'));
    symlinkSync('real.yml', join(repo, 'ci/inner.yml'));
    const result = await plan(repo, '--ref', 'main');
    expect(result.code).toBe(2);
    expect(jobNames(result).sort()).toEqual(['inner-job', 'job']);
    expect(errorLines(result)).toEqual([
      '.gitlab-ci.yml:2 include: ci/link.yml is a symlink to a file outside the repository; GitLab reads only the repository',
    ]);
  });
});

describe('includes from outside the repository stay in the include directory (docs/plan.md, "Layout")', () => {
  const HOSTILE = `include:
  - component: $CI_SERVER_FQDN/acme/../../../evil/build@1.0
  - project: acme/ci
    file: ../../../../../evil.yml
  - remote: https://example.com/a%2F..%2F..%2F..%2Fevil.yml
  - template: ../../../evil.yml
job: {script: [a]}
`;

  it('hostile include names are refused by plan, each once, and includes fetch writes nothing anywhere', async () => {
    const repo = project({ '.gitlab-ci.yml': HOSTILE });
    const result = await plan(repo, '--ref', 'main');
    expect(errorLines(result)).toEqual([
      '.gitlab-ci.yml:2 include: component gitlab.com/acme/../../../evil/build@1.0: its name is not a path that can be kept in the include directory',
      '.gitlab-ci.yml:3 include: project acme/ci file ../../../../../evil.yml: its name is not a path that can be kept in the include directory',
      '.gitlab-ci.yml:5 include: remote https://example.com/a%2F..%2F..%2F..%2Fevil.yml: its name is not a path that can be kept in the include directory',
      '.gitlab-ci.yml:6 include: template ../../../evil.yml: its name is not a path that can be kept in the include directory',
    ]);
    const fetch = await shipway(repo, ['includes', 'fetch', '--server', 'https://gitlab.com']);
    expect(fetch.code).toBe(4);
    expect(fetch.stderr).toMatch(/not a path that can be kept in the include directory/);
    expect(readdirSync(dirname(repo))).toEqual(['repo']);
    expect(existsSync(join(repo, '.shipway'))).toBe(false);
  });

  it('a symlink in the include directory that leads out is not read by plan, and fetch does not write through it', async () => {
    const repo = project({ '.gitlab-ci.yml': 'include:\n  - project: acme/ci\n    ref: main\n    file: ci/a.yml\n' });
    const outside = join(dirname(repo), 'outside');
    mkdirSync(join(outside, 'ci'), { recursive: true });
    writeFileSync(join(outside, 'ci/a.yml'), 'leaked: {script: [leak]}\n');
    mkdirSync(join(repo, '.shipway/includes/projects/acme'), { recursive: true });
    symlinkSync(outside, join(repo, '.shipway/includes/projects/acme/ci@main'));
    const result = await plan(repo, '--ref', 'main');
    expect(jobNames(result)).toEqual([]);
    expect(errorLines(result)).toEqual([
      '.gitlab-ci.yml:2 include: project acme/ci@main file ci/a.yml: .shipway/includes/projects/acme/ci@main/ci/a.yml leads out of the include directory',
    ]);
    rmSync(join(outside, 'ci/a.yml'));
    const gitlab = await startFakeGitLab({
      'acme/ci': {
        defaultBranch: 'main',
        refs: { main: 'f'.repeat(40) },
        files: { ['f'.repeat(40)]: { 'ci/a.yml': 'x: {script: [x]}\n' } },
      },
    });
    try {
      const fetch = await shipway(repo, ['includes', 'fetch', '--server', gitlab.url]);
      expect(fetch.code).toBe(4);
      expect(fetch.stderr).toMatch(/is a symlink or a file, not a directory; nothing written under it/);
      expect(readdirSync(join(outside, 'ci'))).toEqual([]);
    } finally {
      await gitlab.close();
    }
  });
});

describe('every path option accepts an absolute path', () => {
  it('plan --file/--changed and lint --file/--config, given absolute paths', async () => {
    const repo = project({
      '.gitlab-ci.yml': 'build: {script: [a]}\ndocs: {script: [a], rules: [{changes: [docs/*]}]}\n',
    });
    cpSync(join(REPO_ROOT, 'shipway.yaml'), join(repo, 'shipway.yaml'));
    const file = ['--file', join(repo, '.gitlab-ci.yml')];
    const planned = await plan(repo, '--ref', 'main', ...file, '--changed', join(repo, 'docs/a.md'));
    expect(planned.errors).toEqual([]);
    expect(jobNames(planned)).toEqual(['build', 'docs']);
    expect(jobNames(await plan(repo, '--ref', 'main', ...file, '--changed', join(repo, 'src/a.ts')))).toEqual([
      'build',
    ]);
    const lint = await shipway(repo, [
      'lint',
      '--json',
      '--file',
      join(repo, '.gitlab-ci.yml'),
      '--config',
      join(repo, 'shipway.yaml'),
    ]);
    expect(JSON.parse(lint.stdout)).toMatchObject({
      branches: { dev: ['build', 'docs'], stage: ['build', 'docs'], prod: ['build', 'docs'] },
    });
  });

  it('kustomize set-image <absolute dir> and registry serve --dir/--htpasswd <absolute> from another directory', async () => {
    const elsewhere = tempDir();
    const overlay = join(tempDir(), 'overlay');
    mkdirSync(overlay);
    writeFileSync(join(overlay, 'kustomization.yaml'), 'resources: [deploy.yaml]\n');
    const set = await shipway(elsewhere, ['kustomize', 'set-image', overlay, 'app=registry.example/app:1.2.3']);
    expect(set.code).toBe(0);
    expect(readFileSync(join(overlay, 'kustomization.yaml'), 'utf8')).toContain('newTag: 1.2.3');

    const bcrypt = (await import('bcryptjs')).default;
    const htpasswd = join(tempDir(), 'htpasswd');
    writeFileSync(htpasswd, `ci:${bcrypt.hashSync('right', 4)}\n`);
    const storage = join(tempDir(), 'registry');
    const registry = await startRegistryProcess(storage, ['--htpasswd', htpasswd]);
    try {
      expect((await fetch(`http://${registry.host}/v2/`)).status).toBe(401);
      const auth = `Basic ${Buffer.from('ci:right').toString('base64')}`;
      expect((await fetch(`http://${registry.host}/v2/`, { headers: { authorization: auth } })).status).toBe(200);
      expect(existsSync(join(storage, 'blobs'))).toBe(true);
    } finally {
      await registry.stop();
    }
    // A long-running command still asks for the signal and shuts down cleanly.
    expect(registry.child.signalCode).toBe(null);
    expect(registry.child.exitCode).toBe(0);
  });
});

/** CPU time a process has used, from /proc (Linux); undefined elsewhere. */
function cpuSeconds(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

describe('signals end a CPU-bound command at once', () => {
  // 400 jobs each matching a 1.5 MB value: seconds of linear RE2 work, a legitimate slow plan.
  const jobs = Array.from({ length: 400 }, (_, index) => `j${index}: {script: [a], rules: [{if: $S =~ /^(a+)+$/}]}`);
  const config = `variables:\n  S: "${'a'.repeat(1_500_000)}b"\n${jobs.join('\n')}\n`;

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} during a slow plan: the process is gone within 2 s, ended by the signal`, async () => {
      const repo = project({ '.gitlab-ci.yml': config });
      const child = spawn(process.execPath, [SHIPWAY_BIN, 'plan', '--ref', 'main'], { cwd: repo, env: cleanEnv() });
      children.push(child);
      const exited = new Promise<number>((resolve) => child.once('exit', () => resolve(performance.now())));
      // Wait until it is planning: past start-up and parsing (about half a second of CPU).
      const started = performance.now();
      while ((cpuSeconds(child.pid ?? 0) ?? (performance.now() - started) / 1000) < 1.5)
        await new Promise((resolve) => setTimeout(resolve, 50));
      expect(child.exitCode).toBe(null);
      const sent = performance.now();
      child.kill(signal);
      const gone = await Promise.race([
        exited,
        new Promise<number>((resolve) => setTimeout(() => resolve(Infinity), 5000)),
      ]);
      console.log(`${signal}: the plan process ended ${(gone - sent).toFixed(0)} ms after the signal`);
      expect(gone - sent).toBeLessThan(2000);
      expect(child.signalCode).toBe(signal);
    }, 60_000);
  }
});

describe("lint's image rule on other people's pipelines", () => {
  it('flags no tag, :latest and channel tags; not dated tags, versions, digests or hosted macOS runner images', async () => {
    const repo = project({
      '.gitlab-ci.yml': `
dated: {image: "registry.example/ci-centos7-20210128:ci-centos7-20210128", script: [a]}
version: {image: "node:24.11.1-bookworm-slim", script: [a]}
major: {image: "python:3.12", script: [a]}
digest: {image: "alpine@sha256:${'a'.repeat(64)}", script: [a]}
macos: {image: macos-15-xcode-16, tags: [saas-macos-medium-m1], script: [a]}
untagged: {image: "registry.example:5000/tools/helm", script: [a]}
latest: {image: "alpine:latest", script: [a]}
edge: {image: "alpine:edge", script: [a]}
stable: {image: {name: "docker:stable"}, services: ["docker:nightly"], script: [a]}
`,
    });
    cpSync(join(REPO_ROOT, 'shipway.yaml'), join(repo, 'shipway.yaml'));
    const run = await shipway(repo, ['lint', '--json']);
    const findings = (
      JSON.parse(run.stdout) as { findings: { rule: string; severity: string; job: string; message: string }[] }
    ).findings;
    expect(
      findings
        .filter((finding) => finding.rule === 'unpinned-image')
        .map((f) => `${f.severity} ${f.job}: ${f.message}`),
    ).toEqual([
      expect.stringMatching(/^error untagged: .*registry\.example:5000\/tools\/helm is not pinned \(no tag\)/),
      expect.stringMatching(/^error latest: .*alpine:latest is not pinned \(latest\)/),
      'warning edge: job edge: image alpine:edge uses the moving tag edge; pin a release (and digest)',
      'warning stable: job stable: image docker:stable uses the moving tag stable; pin a release (and digest)',
      'warning stable: job stable: image docker:nightly uses the moving tag nightly; pin a release (and digest)',
    ]);
  });
});

// Fuzzing: generated configs (random keyword trees, wrong types, deep nesting, mangled text,
// includes of every kind, spec:inputs) must never make the planner fail with anything but a
// config error. 10,000 are planned in this process through the core (load, plan, the JSON the CLI
// prints, lint) and 60 through the CLI (the layer above the core; each costs a command run);
// each must finish in bounded time. The seeds are fixed, so a failure names the seed that
// reproduces it.
describe('fuzzing: shipway plan never fails with an internal error', () => {
  const FUZZ_CASES = 10_000;
  const CLI_CASES = 60;

  function sourcesOf(files: Record<string, string>): CiSources & { files(): readonly string[] } {
    const list = () => Object.keys(files);
    return {
      read: (path) => (files[path] === undefined ? { kind: 'missing' } : { kind: 'file', text: files[path] ?? '' }),
      list,
      files: list,
    };
  }

  /** Components under acme/ci are served (a generated file, with a header); everything else is missing. */
  function externalOf(files: Record<string, string>): ExternalIncludes {
    return {
      read(target) {
        if (includeDirPaths(target) === undefined) return { kind: 'refused', message: 'hostile path' };
        if (target.kind === 'component' && target.project === 'acme/ci')
          return { kind: 'file', text: files['ci/b.yml'] ?? 'x: {script: [a]}', file: 'component', sources: undefined };
        return { kind: 'missing', hint: 'fetch it' };
      },
    };
  }

  function planInProcess(seed: number): string | undefined {
    const generated = generateCase(seed);
    const files = { '.gitlab-ci.yml': generated.text, ...generated.files };
    const sources = sourcesOf(files);
    const external = externalOf(files);
    const trigger: PipelineTrigger = {
      branch: seed % 3 === 0 ? 'main' : 'feature',
      source: seed % 5 === 0 ? 'merge_request_event' : 'push',
      defaultBranch: 'main',
      sha: '0'.repeat(40),
      message: seed % 11 === 0 ? '[skip ci]' : 'change',
      projectPath: 'acme/app',
      projectDir: '/tmp/app',
    };
    const variables = new Map([['PATTERN', '/^b/']]);
    try {
      const config = loadCiConfig(sources, '.gitlab-ci.yml', {
        include: includeContextFor(trigger, variables, sources.files, external),
        inputs: seed % 2 === 0 ? { name: 'abc' } : undefined,
      });
      const child = (include: CiValue, at: SourceLocation, forwarded: ReadonlyMap<string, string>) =>
        loadChildConfig(sources, include, at, {
          include: includeContextFor({ ...trigger, source: 'parent_pipeline' }, forwarded, sources.files, external),
        });
      const plan = planPipeline({ config, trigger, variables, files: sources.files, child });
      JSON.stringify(planJson(plan));
      for (const job of plan.stages.flatMap((stage) => stage.jobs)) job.variables();
      lintPipeline({
        config,
        environments: [{ name: 'dev', branch: 'main', overlay: 'deployment/dev' }],
        plans: new Map([['dev', plan]]),
      });
      return undefined;
    } catch (error) {
      if (error instanceof ShipwayError) return undefined;
      return `seed ${seed}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
    }
  }

  it(`${FUZZ_CASES} generated configs planned in process: only config errors, each in under 2 s`, {
    timeout: 300_000,
  }, () => {
    const failures: string[] = [];
    let slowest = { seed: 0, ms: 0 };
    const started = performance.now();
    for (let seed = 1; seed <= FUZZ_CASES; seed += 1) {
      const caseStarted = performance.now();
      const failure = planInProcess(seed);
      const ms = performance.now() - caseStarted;
      if (ms > slowest.ms) slowest = { seed, ms };
      if (failure !== undefined) failures.push(failure);
    }
    const total = performance.now() - started;
    console.log(
      `fuzz: ${FUZZ_CASES} configs in ${(total / 1000).toFixed(1)} s (${(total / FUZZ_CASES).toFixed(2)} ms each); slowest seed ${slowest.seed} ${slowest.ms.toFixed(0)} ms; ${failures.length} internal errors`,
    );
    expect(failures.slice(0, 5)).toEqual([]);
    expect(slowest.ms).toBeLessThan(2000);
  });

  it(`${CLI_CASES} of them through the CLI: never exit 1`, { timeout: 300_000 }, async () => {
    const repo = project({ '.gitlab-ci.yml': '' });
    const failures: string[] = [];
    for (let seed = 20_001; seed <= 20_000 + CLI_CASES; seed += 1) {
      const generated = generateCase(seed);
      for (const [path, text] of Object.entries({ '.gitlab-ci.yml': generated.text, ...generated.files })) {
        mkdirSync(dirname(join(repo, path)), { recursive: true });
        writeFileSync(join(repo, path), text);
      }
      const args = [
        'plan',
        '--json',
        '--ref',
        'main',
        '--default-branch',
        'main',
        '--message',
        'x',
        '--server',
        'https://gitlab.example.com',
      ];
      const run = await shipway(repo, seed % 2 === 0 ? args : [...args, '--input', 'name=abc']);
      if (run.code === 1 || /internal error/.test(run.stderr))
        failures.push(`seed ${seed}: exit ${run.code}: ${run.stderr}`);
      rmSync(join(repo, 'ci'), { recursive: true, force: true });
    }
    expect(failures.slice(0, 3)).toEqual([]);
  });
});
