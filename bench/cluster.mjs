// npm run bench:cluster — on the embedded cluster, for the hello service in prod (5 replicas):
// Git commit on the prod branch → the canary serves its first request; abort → 100 % stable;
// promote --full → Healthy. Everything real: registry, images, Git remote, pods as processes.
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCluster } from '../shipway/dist/app/cluster.js';
import { runCli } from '../shipway/dist/cli/run-cli.js';
import { createRegistryServer } from '../shipway/dist/local/registry/registry-server.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'shipway-bench-cluster-'));
const repo = join(work, 'repo');
execFileSync('git', ['clone', '--quiet', root, repo]);
symlinkSync(join(root, 'node_modules'), join(repo, 'node_modules'));
execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', join(work, 'remote.git')]);
execFileSync('git', ['remote', 'set-url', 'origin', join(work, 'remote.git')], { cwd: repo });
execFileSync('git', ['push', '--quiet', 'origin', 'HEAD:main'], { cwd: repo });

const registry = await createRegistryServer({ dir: join(work, 'registry') });
const env = {
  ...process.env,
  AWS_REPOSITORY: `${new URL(await registry.listen({ port: 0, host: '127.0.0.1' })).host}/hello`,
};
async function shipway(...argv) {
  let out = '';
  let err = '';
  const code = await runCli(argv, {
    cwd: repo,
    env,
    stdout: (t) => {
      out += t;
    },
    stderr: (t) => {
      err += t;
    },
  });
  if (code !== 0 && argv[0] !== 'rollout') throw new Error(`shipway ${argv.join(' ')} exited ${code}: ${err}`);
  return { code, out, err };
}
async function build(tag) {
  if (tag !== 'v1') appendFileSync(join(repo, 'service/src/create-server.ts'), `\n// ${tag}\n`);
  return JSON.parse((await shipway('image', 'build', '--base', 'host', '--push', '--tag', tag, '--json')).out);
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
async function until(check, timeoutMs = 60_000) {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if (await check()) return performance.now() - started;
    await sleep(10);
  }
  throw new Error('timed out');
}
const digestAt = async (url) => (await (await fetch(`${url}/version`)).json()).imageDigest;

const v1 = await build('v1');
const v2 = await build('v2');
const v3 = await build('v3');
const { cluster, info } = await startCluster({ cwd: repo, env, progress: () => {} }, { stateDir: '.shipway/cluster' });
const url = info.urls.prod;
try {
  await shipway('promote', 'prod', '--approve', '--image', v1.ref);
  await shipway('rollout', 'wait', 'prod', '--for', 'healthy', '--timeout', '120s');

  // Commit on prod → first request answered by the canary.
  let t0 = performance.now();
  await shipway('promote', 'prod', '--approve', '--image', v2.ref);
  const commitMs = performance.now() - t0;
  const firstCanaryMs = commitMs + (await until(async () => (await digestAt(url)) === v2.digest));
  await shipway('rollout', 'wait', 'prod', '--for', 'paused', '--timeout', '60s');

  // abort → every request answered by stable.
  t0 = performance.now();
  await shipway('rollout', 'abort', 'prod', '--no-revert');
  let streak = 0;
  await until(async () => {
    streak = (await digestAt(url)) === v1.digest ? streak + 1 : 0;
    return streak >= 20;
  });
  const abortMs = performance.now() - t0;

  // A new release, then promote --full → Healthy.
  await shipway('promote', 'prod', '--approve', '--image', v3.ref);
  // The aborted release is Degraded until the cluster syncs the new commit; wait for that first.
  await until(
    async () => cluster.status().find((entry) => entry.environment === 'prod')?.rollout?.canary.image === v3.ref,
  );
  await shipway('rollout', 'wait', 'prod', '--for', 'paused', '--timeout', '60s');
  t0 = performance.now();
  await shipway('rollout', 'promote', 'prod', '--full');
  const healthy = await shipway('rollout', 'wait', 'prod', '--for', 'healthy', '--timeout', '60s');
  const fullMs = performance.now() - t0;
  if (healthy.code !== 0) {
    const prod = cluster.status().find((entry) => entry.environment === 'prod');
    console.log(`promote --full did not reach Healthy: ${healthy.err.trim()}`);
    console.log(JSON.stringify({ rollout: prod?.rollout, pods: prod?.pods }, null, 1));
  }

  const s = (ms) => `${(ms / 1000).toFixed(2)} s`;
  console.log('embedded cluster, prod (5 replicas, hello service), 2 cores:');
  console.log(
    `  git commit on prod -> canary serves its first request  ${s(firstCanaryMs)}  (of which the promote commit+push ${s(commitMs)})   target < 2 s`,
  );
  console.log(`  rollout abort -> 100 % of requests on stable            ${s(abortMs)}   target < 2 s`);
  console.log(`  rollout promote --full -> Healthy                       ${s(fullMs)}   target < 2 s`);
} finally {
  await cluster.down();
  await registry.close();
  rmSync(work, { recursive: true, force: true });
}
// Something (an idle keep-alive socket or a pod's drain timer) can keep the loop alive after the
// figures are printed; the run is over, so end it rather than wait.
process.exit(0);
