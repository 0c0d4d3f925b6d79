// npm run bench:promote — one `shipway promote` against a local bare remote (median of a series,
// each a real CLI process as a CI job runs it), and 16 promotes started at once.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'shipway/dist/cli/main.js');
const SERIES = Number(process.env.BENCH_SERIES ?? 15);
const CONCURRENT = 16;

const git = (cwd, ...args) => execFileSync('git', args, { cwd, encoding: 'utf8' });
function fixture() {
  const dir = mkdtempSync(join(tmpdir(), 'shipway-bench-'));
  const remote = join(dir, 'remote.git');
  const work = join(dir, 'work');
  git(dir, 'init', '-q', '--bare', '--initial-branch=main', remote);
  git(dir, 'init', '-q', '--initial-branch=main', work);
  cpSync(join(root, 'deployment'), join(work, 'deployment'), { recursive: true });
  cpSync(join(root, 'shipway.yaml'), join(work, 'shipway.yaml'));
  git(work, 'add', '-A');
  git(work, '-c', 'user.name=bench', '-c', 'user.email=bench@localhost', 'commit', '-qm', 'initial');
  git(work, 'remote', 'add', 'origin', remote);
  git(work, 'push', '-q', 'origin', 'main');
  return { dir, remote, work };
}

const digest = (n) => `sha256:${n.toString(16).padStart(64, '0')}`;
function promote(work, env, n) {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [bin, 'promote', env, '--approve', '--image', `127.0.0.1:5000/hello:b${n}@${digest(n)}`],
      {
        cwd: work,
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('close', (code) => {
      const ms = performance.now() - started;
      if (code === 0) resolve({ ms, retried: stderr.includes('retrying') });
      else reject(new Error(`promote exited ${code}: ${stderr}`));
    });
  });
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

const one = fixture();
try {
  const times = [];
  for (let n = 1; n <= SERIES; n += 1) times.push((await promote(one.work, 'dev', n)).ms);
  console.log(
    `one promote (CLI process, local bare remote): median ${median(times).toFixed(0)} ms, min ${Math.min(...times).toFixed(0)} ms, max ${Math.max(...times).toFixed(0)} ms over ${SERIES}`,
  );
} finally {
  rmSync(one.dir, { recursive: true, force: true });
}

const many = fixture();
try {
  const envs = ['dev', 'stage', 'prod'];
  const started = performance.now();
  const results = await Promise.all(
    Array.from({ length: CONCURRENT }, (_, i) => promote(many.work, envs[i % envs.length], 100 + i)),
  );
  const total = performance.now() - started;
  const commits = envs.reduce(
    (sum, env) => sum + Number(git(many.remote, 'rev-list', '--count', `main..${env}`).trim()),
    0,
  );
  console.log(
    `${CONCURRENT} concurrent promotes (dev/stage/prod): total ${total.toFixed(0)} ms, slowest ${Math.max(...results.map((r) => r.ms)).toFixed(0)} ms, ${results.filter((r) => r.retried).length} retried, ${commits}/${CONCURRENT} commits landed`,
  );
} finally {
  rmSync(many.dir, { recursive: true, force: true });
}
