import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloneRepo, type RepoClone } from './support/repo-clone.js';
import { shipwayProcess } from './support/run-shipway.js';

// `npm run pipeline`'s flow from a clone of this repository: the real .gitlab-ci.yml, run on
// this machine against the embedded registry and cluster (a background process, as a user's
// run leaves it), every job a real shell with real npm ci, builds, pushes and promotions.
interface RunJson {
  status: string;
  pipelines: {
    ref: string;
    status: string;
    jobs: { name: string; status: string; log: string; reused?: { ref: string } }[];
  }[];
  environments: { environment: string; url: string; digest: string | null; phase: string }[];
}

let clone: RepoClone;
/** This file's local stack (SHIPWAY_HOME), beside the clone: never the user's own. */
let home: Record<string, string>;
const runs: RunJson[] = [];

async function run(...args: string[]): Promise<RunJson> {
  const result = await shipwayProcess(clone.dir, ['run', '--json', ...args], home);
  if (result.stdout === '') throw new Error(`shipway run exited ${result.code}: ${result.stderr}`);
  const parsed = JSON.parse(result.stdout) as RunJson;
  runs.push(parsed);
  return parsed;
}

const jobs = (result: RunJson) =>
  Object.fromEntries(
    result.pipelines.map((pipeline) => [
      pipeline.ref,
      Object.fromEntries(pipeline.jobs.map((job) => [job.name, job.status])),
    ]),
  );
/** Per pipeline, the jobs whose result was reused, and the ref of the pipeline it came from. */
const reusedFrom = (result: RunJson) =>
  Object.fromEntries(
    result.pipelines.map((pipeline) => [
      pipeline.ref,
      Object.fromEntries(pipeline.jobs.flatMap((job) => (job.reused ? [[job.name, job.reused.ref]] : []))),
    ]),
  );
const env = (result: RunJson, name: string) => result.environments.find((entry) => entry.environment === name);
const version = async (url: string) =>
  (await (await fetch(`${url}/version`)).json()) as { imageDigest: string; version: string };

beforeAll(() => {
  clone = cloneRepo('shipway-run-');
  home = { SHIPWAY_HOME: join(clone.dir, '..', 'shipway-home') };
});
afterAll(async () => {
  if (clone === undefined) return;
  await shipwayProcess(clone.dir, ['cluster', 'down'], home);
  // A failing run leaves its job logs: print the failed ones to explain the failure.
  for (const result of runs)
    for (const job of result.pipelines.flatMap((pipeline) => pipeline.jobs))
      if (job.status === 'failed' && existsSync(job.log)) console.error(readFileSync(job.log, 'utf8').slice(-3000));
  clone.cleanup();
}, 120_000);

describe('shipway run (npm run pipeline)', () => {
  let first: RunJson;

  it('--yes: dev → stage → prod, built once, prod Healthy on that image and answering Hello world', async () => {
    first = await run('--yes');
    expect(jobs(first)).toEqual({
      dev: { build: 'success', publish: 'success', 'deploy-dev': 'success' },
      stage: { build: 'success', 'deploy-stage': 'success' },
      prod: { build: 'success', 'deploy-prod': 'success', 'promote-prod': 'success', 'rollback-prod': 'manual' },
    });
    expect(first.status).toBe('success');
    // Tested once too: the build declares SHIPWAY_REUSE: tree, so stage and prod reuse dev's.
    expect(reusedFrom(first)).toEqual({ dev: {}, stage: { build: 'dev' }, prod: { build: 'dev' } });
    const prod = env(first, 'prod');
    expect(prod?.phase).toBe('Healthy');
    const digest = prod?.digest ?? '';
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    // Published once on dev, promoted by digest: every environment runs the same image.
    expect(env(first, 'dev')?.digest).toBe(digest);
    expect(env(first, 'stage')?.digest).toBe(digest);
    const answer = await fetch(`${prod?.url}/`);
    expect(await answer.text()).toBe('Hello world');
    expect((await version(prod?.url ?? '')).imageDigest).toBe(digest);
    // The newcomer's second command agrees with the first: status reads what the run pushed.
    const status = await shipwayProcess(clone.dir, ['status', '--json'], home);
    expect(status.code, status.stderr).toBe(0);
    const pinned = JSON.parse(status.stdout).environments as Record<string, { digest: string | null }>;
    expect(['dev', 'stage', 'prod'].map((name) => pinned[name]?.digest)).toEqual([digest, digest, digest]);
  }, 1_200_000);

  it('a new commit with --approve deploy-prod,rollback-prod: its canary is aborted and prod is back on the first image', async () => {
    const before = env(first, 'prod')?.digest ?? '';
    appendFileSync(join(clone.dir, 'service/src/create-server.ts'), '\n// the second release\n');
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qam', 'second release'], {
      cwd: clone.dir,
    });
    const second = await run('--approve', 'deploy-prod,rollback-prod');
    expect(jobs(second).prod).toEqual({
      build: 'success',
      'deploy-prod': 'success',
      'promote-prod': 'manual',
      'rollback-prod': 'success',
    });
    expect(second.status).toBe('success');
    // After a release the branches differ in their image pins only: prod still reuses dev's build.
    expect(reusedFrom(second).prod).toEqual({ build: 'dev' });
    const devDigest = env(second, 'dev')?.digest;
    expect(devDigest).not.toBe(before);
    // Git pins the stable image again, so prod runs (and answers with) the first release.
    const prod = env(second, 'prod');
    expect(prod?.digest).toBe(before);
    let digests = new Set<string>();
    for (let i = 0; i < 20; i += 1) digests.add((await version(prod?.url ?? '')).imageDigest);
    for (
      const deadline = Date.now() + 60_000;
      Date.now() < deadline && (digests.size !== 1 || !digests.has(before));
    ) {
      digests = new Set<string>();
      for (let i = 0; i < 20; i += 1) digests.add((await version(prod?.url ?? '')).imageDigest);
    }
    expect([...digests]).toEqual([before]);
  }, 1_200_000);
});
