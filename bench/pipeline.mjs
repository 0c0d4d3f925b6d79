// npm run bench:pipeline — wall time of `npm run pipeline -- --yes` (the main job: dev → stage →
// prod on this machine) from a fresh clone of this repository, with each job's time as
// `shipway run --json` reports it. Three runs, one after another:
//
// cold:   a fresh clone after `npm ci` (not timed) and a new local stack (SHIPWAY_HOME in a temp
//         dir: no registry blobs, no job caches, no kept job results, no cluster running). npm's
//         own cache (~/.npm) is the machine's, as on any developer machine or runner with a cache.
// warm:   a second fresh clone of the same commit, `npm ci` (not timed), with a warm cache: the
//         project's caches in SHIPWAY_HOME (job caches, the image layout, kept job results) are
//         kept, and everything else of the stack is reset (the cluster stopped, its registry,
//         Git stand-ins and environments removed). So the run does what the cold one did (a first
//         release, a push to an empty registry) and differs from it by the caches alone.
// change: the warm clone after a one-line change to the service, committed, the stack running:
//         a second release, so prod runs its canary (the prod overlay's manual pause, a 30 s timed
//         pause and a 20 s analysis, by design) before promote-prod ends.
// BENCH_RUNS=n repeats the change run n times (default 1).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const CHANGE_RUNS = Number(process.env.BENCH_RUNS ?? 1);
const dir = mkdtempSync(join(tmpdir(), 'shipway-bench-pipeline-'));
const home = join(dir, 'home');
const env = { ...process.env, SHIPWAY_HOME: home, FORCE_COLOR: '0' };
// A developer's shell, not a CI job: the commands in the checkout use the run's local stand-in.
delete env.CI;
delete env.GITLAB_CI;

const git = (cwd, ...args) => execFileSync('git', args, { cwd, encoding: 'utf8', env });

function npm(cwd, args, { json = false } = {}) {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn('npm', args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
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

async function freshClone(name) {
  const clone = join(dir, name);
  execFileSync('git', ['clone', '--quiet', root, clone]);
  git(clone, 'config', 'user.name', 'bench');
  git(clone, 'config', 'user.email', 'bench@localhost');
  await npm(clone, ['ci', '--no-audit', '--no-fund', '--prefer-offline']);
  return clone;
}

async function pipeline(clone, label) {
  const args = ['run', '--silent', 'pipeline', '--', '--yes', '--json'];
  const { seconds, result } = await npm(clone, args, { json: true });
  if (result.status !== 'success') throw new Error(`${label}: pipeline ${result.status}`);
  console.log(`\n${label}: ${seconds.toFixed(1)} s wall (shipway run itself: ${(result.ms / 1000).toFixed(1)} s)`);
  for (const run of result.pipelines) {
    const jobs = run.jobs
      .filter((job) => job.ms !== null)
      .map((job) => `${job.name} ${(job.ms / 1000).toFixed(1)} s${job.reused ? ' (reused)' : ''}`)
      .join(', ');
    console.log(`  ${run.ref.padEnd(5)} ${(run.ms / 1000).toFixed(1).padStart(5)} s  ${jobs || `(${run.status})`}`);
  }
  return seconds;
}

const clusterDown = (clone) =>
  execFileSync(process.execPath, [join(clone, 'shipway/dist/cli/main.js'), 'cluster', 'down'], { cwd: clone, env });

let last;
try {
  last = await freshClone('cold');
  const cold = await pipeline(last, 'cold (fresh clone, new stack)');
  // Everything of the stack but the project caches goes: the next run starts from nothing else.
  clusterDown(last);
  for (const entry of readdirSync(home)) if (entry !== 'cache') rmSync(join(home, entry), { recursive: true });
  last = await freshClone('warm');
  const warm = await pipeline(last, 'warm (fresh clone of the same commit, warm cache, stack reset)');
  const changes = [];
  for (let run = 1; run <= CHANGE_RUNS; run++) {
    const file = join(last, 'service/src/create-server.ts');
    writeFileSync(file, `${readFileSync(file, 'utf8')}// bench change ${run}\n`);
    git(last, 'commit', '--quiet', '-am', `bench: one-line change ${run}`);
    changes.push(await pipeline(last, `change ${run} (a one-line change, stack running: a canary in prod)`));
  }
  console.log(
    `\ncold ${cold.toFixed(1)} s, warm ${warm.toFixed(1)} s, change ${changes.map((s) => s.toFixed(1)).join(' / ')} s (target: warm < 60 s, cold < 150 s)`,
  );
} finally {
  try {
    if (last !== undefined) clusterDown(last);
  } catch (error) {
    console.error(String(error));
  }
  rmSync(dir, { recursive: true, force: true });
}
