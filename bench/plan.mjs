// npm run bench:plan — `shipway plan --json` on generated configs of 300, 1,000 and 3,000 jobs
// (a real CLI process each time, as a user runs it: Node start-up included), with the per-job
// cost so that growth is visible; a matrix-heavy config (200 jobs × 10 parallel:matrix
// combinations, with needs:parallel:matrix); wall time and the process's CPU time (user + system),
// medians of BENCH_RUNS runs; and, when gitlab-ci-local 4.73.0 can be installed from npm, its
// `--list` on the same configs in the same run.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'shipway/dist/cli/main.js');
const cpuUsage = join(root, 'bench/cpu-usage.mjs');
const MATRIX_JOBS = Number(process.env.BENCH_MATRIX_JOBS ?? 200);
const SIZES = (process.env.BENCH_SIZES ?? '300,1000,3000').split(',').map(Number);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const work = mkdtempSync(join(tmpdir(), 'shipway-bench-plan-'));

/**
 * A config shaped like a large monorepo's: stages, a hidden template per stage pulled in with
 * extends, an anchor merged into rules, workflow rules, variables, and needs on the previous
 * stage's job of the same component. (No rules:changes: gitlab-ci-local diffs against the remote
 * for those while shipway, with no --changed, counts them true as GitLab does for a new branch,
 * so the two would list different jobs.)
 */
function generate(jobs) {
  const stages = ['build', 'test', 'package', 'deploy', 'verify'];
  const lines = [
    'workflow:',
    '  rules:',
    '    - if: $CI_COMMIT_MESSAGE =~ /\\[skip pipeline\\]/',
    '      when: never',
    '    - if: $CI_COMMIT_BRANCH || $CI_COMMIT_TAG',
    `stages: [${stages.join(', ')}]`,
    'variables:',
    '  REGISTRY: registry.example.com',
    '  IMAGE: $REGISTRY/app',
    '.on-branches: &on-branches',
    '  if: $CI_COMMIT_BRANCH && $CI_PIPELINE_SOURCE != "schedule"',
  ];
  for (const stage of stages)
    lines.push(`.${stage}:`, `  stage: ${stage}`, '  image: node:20.19.5-bookworm-slim', `  script: [echo ${stage}]`);
  const components = Math.ceil(jobs / stages.length);
  let count = 0;
  for (let c = 0; c < components && count < jobs; c += 1) {
    for (let s = 0; s < stages.length && count < jobs; s += 1, count += 1) {
      const stage = stages[s];
      lines.push(
        `${stage}-component-${c}:`,
        `  extends: .${stage}`,
        '  variables:',
        `    COMPONENT: component-${c}`,
        '  rules:',
        `    - if: $CI_COMMIT_TAG && $COMPONENT =~ /^component-${c % 7}/`,
        '      when: manual',
        '    - <<: *on-branches',
      );
      if (s > 0) lines.push(`  needs: [${stages[s - 1]}-component-${c}]`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The matrix-heavy config: `jobs` jobs in 4 stages, each a parallel:matrix of 5 targets × 2
 * architectures (10 instances), rules reading the instance's variables, and needs on the
 * previous stage's same-target instances through needs:parallel:matrix.
 */
function generateMatrix(jobs) {
  const stages = ['build', 'test', 'package', 'deploy'];
  const lines = [`stages: [${stages.join(', ')}]`, 'variables:', '  REGISTRY: registry.example.com'];
  const components = Math.ceil(jobs / stages.length);
  let count = 0;
  for (let c = 0; c < components && count < jobs; c += 1) {
    for (let s = 0; s < stages.length && count < jobs; s += 1, count += 1) {
      lines.push(
        `${stages[s]}-${c}:`,
        `  stage: ${stages[s]}`,
        `  script: [make $TARGET-$ARCH]`,
        '  parallel:',
        '    matrix:',
        '      - TARGET: [linux, darwin, windows, freebsd, wasm]',
        '        ARCH: [amd64, arm64]',
        '  rules:',
        '    - if: $TARGET == "wasm" && $ARCH == "arm64"',
        '      when: manual',
        '    - if: $CI_COMMIT_BRANCH',
      );
      if (s > 0)
        lines.push(
          '  needs:',
          `    - job: ${stages[s - 1]}-${c}`,
          '      parallel:',
          '        matrix:',
          '          - TARGET: [linux, darwin]',
          '            ARCH: [amd64, arm64]',
        );
    }
  }
  return `${lines.join('\n')}\n`;
}

function time(program, args, cwd) {
  const started = process.hrtime.bigint();
  const result = spawnSync(program, args, { cwd, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`${program} ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  const cpu = /^@cpu (\S+)$/m.exec(result.stderr ?? '');
  return { ms, cpuMs: cpu === null ? undefined : Number(cpu[1]), stdout: result.stdout };
}

/** A repository with this config: a clone of a bare remote with origin/HEAD set, as a GitLab checkout has (gitlab-ci-local needs it). */
function repository(name, config) {
  const dir = join(work, name);
  mkdirSync(dir);
  writeFileSync(join(dir, '.gitlab-ci.yml'), config);
  const remote = join(work, `${name}.git`);
  execFileSync('git', ['init', '-q', '--initial-branch=main', dir]);
  execFileSync('git', ['-C', dir, 'add', '-A']);
  execFileSync('git', ['-C', dir, '-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '-qm', 'bench']);
  execFileSync('git', ['init', '-q', '--bare', '--initial-branch=main', remote]);
  execFileSync('git', ['-C', dir, 'remote', 'add', 'origin', remote]);
  execFileSync('git', ['-C', dir, 'push', '-q', 'origin', 'main']);
  execFileSync('git', ['-C', dir, 'remote', 'set-head', 'origin', 'main']);
  return dir;
}

/** `shipway plan --json --ref main` RUNS times: the median wall and CPU time, and the jobs planned. */
function planRuns(dir) {
  const walls = [];
  const cpus = [];
  let planned = 0;
  for (let run = 0; run < RUNS; run += 1) {
    const { ms, cpuMs, stdout } = time(
      process.execPath,
      ['--import', cpuUsage, bin, 'plan', '--json', '--ref', 'main'],
      dir,
    );
    walls.push(ms);
    if (cpuMs !== undefined) cpus.push(cpuMs);
    planned = JSON.parse(stdout).stages.reduce((sum, stage) => sum + stage.jobs.length, 0);
  }
  return { ms: median(walls), cpuMs: cpus.length === 0 ? undefined : median(cpus), planned };
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const cpuText = (ms) => (ms === undefined ? 'n/a' : `${(ms / 1000).toFixed(3)} s`);

/** gitlab-ci-local 4.73.0 (the last release that runs on Node 20), installed into the bench's temp dir. */
function gitlabCiLocal() {
  const dir = join(work, 'gcl');
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('npm', ['install', '--silent', '--no-audit', '--no-fund', '--prefix', dir, 'gitlab-ci-local@4.73.0'], {
      stdio: 'ignore',
      timeout: 300_000,
    });
  } catch {
    return undefined;
  }
  const path = join(dir, 'node_modules/gitlab-ci-local/dist/index.js');
  return existsSync(path) ? path : undefined;
}

try {
  const gcl = process.env.BENCH_NO_GCL === '1' ? undefined : gitlabCiLocal();
  console.log(
    `shipway plan --json, median of ${RUNS} runs (a CLI process each; Node start-up included), 2 shared cores; wall and CPU (user+sys):`,
  );
  const rows = [];
  for (const jobs of SIZES) {
    const dir = repository(`jobs-${jobs}`, generate(jobs));
    const { ms, cpuMs, planned } = planRuns(dir);
    const row = { jobs, planned, ms, cpuMs };
    if (gcl !== undefined) {
      const gclRuns = [];
      for (let run = 0; run < Math.min(RUNS, 3); run += 1) {
        const { ms, stdout } = time(process.execPath, [gcl, '--list', '--cwd', '.'], dir);
        gclRuns.push(ms);
        row.gclListed = stdout.split('\n').filter((line) => /-component-\d+/.test(line)).length;
      }
      row.gclMs = median(gclRuns);
    }
    rows.push(row);
    const gclText =
      row.gclMs === undefined
        ? ''
        : `   gitlab-ci-local --list ${(row.gclMs / 1000).toFixed(2)} s, ${row.gclListed} listed (${(row.gclMs / row.ms).toFixed(1)}× slower)`;
    console.log(
      `  ${String(jobs).padStart(5)} jobs (${planned} in the pipeline)  wall ${(row.ms / 1000).toFixed(3)} s  CPU ${cpuText(row.cpuMs)}  ${((row.ms * 1000) / jobs).toFixed(0)} µs/job${gclText}`,
    );
  }
  if (MATRIX_JOBS > 0) {
    const dir = repository('matrix', generateMatrix(MATRIX_JOBS));
    const { ms, cpuMs, planned } = planRuns(dir);
    console.log(
      `  matrix: ${MATRIX_JOBS} jobs × 10 combinations (${planned} in the pipeline)  wall ${(ms / 1000).toFixed(3)} s  CPU ${cpuText(cpuMs)}  ${((ms * 1000) / (MATRIX_JOBS * 10)).toFixed(0)} µs/instance`,
    );
  }
  const first = rows[0];
  const last = rows.at(-1);
  if (first !== undefined && last !== undefined && last !== first)
    console.log(
      `  growth ${first.jobs} → ${last.jobs} jobs (×${(last.jobs / first.jobs).toFixed(0)}): wall ×${(last.ms / first.ms).toFixed(2)}, CPU ×${last.cpuMs === undefined || first.cpuMs === undefined ? 'n/a' : (last.cpuMs / first.cpuMs).toFixed(2)}   target: 3,000 jobs < 0.5 s`,
    );
  if (gcl === undefined)
    console.log('  gitlab-ci-local 4.73.0 could not be installed from npm: no comparison this run');
} finally {
  rmSync(work, { recursive: true, force: true });
}
