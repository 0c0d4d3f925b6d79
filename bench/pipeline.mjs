// npm run bench:pipeline — wall time of `npm run pipeline -- --yes` (the main job: dev → stage →
// prod on this machine) in a fresh clone of this repository, cold and then warm, with each job's
// time as `shipway run --json` reports it.
//
// cold: a new clone after `npm ci` (not timed), a new local stack (SHIPWAY_HOME in a temp dir:
//       no registry blobs, no pulled layers, no job caches, no cluster running). npm's own cache
//       (~/.npm) is the machine's, as on any developer machine or CI runner with a cache.
// warm: the same clone after a one-line change to the service, committed: the stack is running,
//       and the job caches and the image's base layers are there.
// BENCH_RUNS=n repeats the warm run n times (default 1).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const WARM_RUNS = Number(process.env.BENCH_RUNS ?? 1);
const dir = mkdtempSync(join(tmpdir(), 'shipway-bench-pipeline-'));
const clone = join(dir, 'repo');
const env = { ...process.env, SHIPWAY_HOME: join(dir, 'home'), FORCE_COLOR: '0' };
// A developer's shell, not a CI job: the commands in the checkout use the run's local stand-in.
delete env.CI;
delete env.GITLAB_CI;

const git = (...args) => execFileSync('git', args, { cwd: clone, encoding: 'utf8', env });

function npm(args, { json = false } = {}) {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn('npm', args, { cwd: clone, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('close', (code) => {
      const seconds = (performance.now() - started) / 1000;
      if (code !== 0) reject(new Error(`npm ${args.join(' ')} exited ${code}\n${stderr.slice(-4000)}`));
      else resolve({ seconds, result: json ? JSON.parse(stdout.slice(stdout.indexOf('{'))) : undefined });
    });
  });
}

async function pipeline(label) {
  const { seconds, result } = await npm(['run', '--silent', 'pipeline', '--', '--yes', '--json'], { json: true });
  if (result.status !== 'success') throw new Error(`${label}: pipeline ${result.status}`);
  console.log(`\n${label}: ${seconds.toFixed(1)} s wall (shipway run itself: ${(result.ms / 1000).toFixed(1)} s)`);
  for (const run of result.pipelines) {
    const jobs = run.jobs
      .filter((job) => job.ms !== null)
      .map((job) => `${job.name} ${(job.ms / 1000).toFixed(1)} s`)
      .join(', ');
    console.log(`  ${run.ref.padEnd(5)} ${(run.ms / 1000).toFixed(1).padStart(5)} s  ${jobs || `(${run.status})`}`);
  }
  return seconds;
}

try {
  execFileSync('git', ['clone', '--quiet', root, clone]);
  git('config', 'user.name', 'bench');
  git('config', 'user.email', 'bench@localhost');
  await npm(['ci', '--no-audit', '--no-fund', '--prefer-offline']);
  const cold = await pipeline('cold');
  const warm = [];
  for (let run = 1; run <= WARM_RUNS; run++) {
    const file = join(clone, 'service/src/create-server.ts');
    writeFileSync(file, `${readFileSync(file, 'utf8')}// bench change ${run}\n`);
    git('commit', '--quiet', '-am', `bench: one-line change ${run}`);
    warm.push(await pipeline(`warm ${run} (after a one-line change)`));
  }
  console.log(`\ncold ${cold.toFixed(1)} s, warm ${warm.map((s) => s.toFixed(1)).join(' / ')} s (target: warm < 60 s)`);
} finally {
  try {
    execFileSync(process.execPath, [join(clone, 'shipway/dist/cli/main.js'), 'cluster', 'down'], { cwd: clone, env });
  } catch (error) {
    console.error(String(error));
  }
  rmSync(dir, { recursive: true, force: true });
}
