import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand } from '../adapters/process/run-command.js';
import { ExternalError } from '../core/errors.js';
import { type ClusterProcessInfo, clusterRunning } from '../local/cluster/state-dir.js';
import { clusterAccess } from './cluster-access.js';
import type { AppContext } from './context.js';

/** What the local pipeline runs against: GitLab's, the registry's and the cluster's stand-ins. */
export interface LocalStack {
  /** The bare repository standing in for the project on GitLab. */
  readonly remote: string;
  readonly stateDir: string;
  readonly kubeconfig: string;
  /** host:port of the embedded registry. */
  readonly registry: string;
  readonly api: string;
  readonly urls: Readonly<Record<string, string>>;
  readonly pid: number;
  readonly started: boolean;
}

const MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));

function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

interface ClusterFiles {
  readonly cluster?: (ClusterProcessInfo & { api: string; urls: Record<string, string> }) | undefined;
  readonly registry?: { url: string } | undefined;
  readonly stack?: { remote: string } | undefined;
}

function readStack(stateDir: string): ClusterFiles & { readonly stateDir: string } {
  return {
    stateDir,
    cluster: readJson(join(stateDir, 'cluster.json')),
    registry: readJson(join(stateDir, 'registry.json')),
    stack: readJson(join(stateDir, 'stack.json')),
  };
}

async function running(files: ReturnType<typeof readStack>): Promise<boolean> {
  const { cluster, registry } = files;
  if (cluster === undefined || registry === undefined || !clusterRunning(cluster)) return false;
  // The cluster's API answers only over TLS with the token of the kubeconfig it wrote.
  const status = await Promise.resolve()
    .then(() => clusterAccess(join(files.stateDir, 'kubeconfig')).get('/shipway/v1/status', 2000))
    .catch(() => undefined);
  return status?.status === 200 && (await answers(`http://${registry.url}/v2/`));
}

/**
 * Makes sure the local stack is up: a bare repository for the project (GitLab's stand-in), and
 * one background `shipway cluster up` process serving the embedded cluster and registry. A stack
 * already running is reused (images, Git history and environments carry over between runs);
 * `shipway cluster down` stops it.
 */
export async function ensureLocalStack(context: AppContext): Promise<LocalStack> {
  const root = resolve(context.cwd, '.shipway');
  const remote = join(root, 'gitlab', `${basename(context.cwd)}.git`);
  if (!existsSync(remote)) {
    mkdirSync(remote, { recursive: true });
    const init = await runCommand('git', ['init', '--quiet', '--bare', '--initial-branch=main', remote]);
    if (init.code !== 0) throw new ExternalError('GIT_FAILED', `git init ${remote}: ${init.stderr.trim()}`);
  }
  const stateDir = join(root, 'cluster');
  const current = readStack(stateDir);
  if (await running(current)) {
    if (current.stack?.remote !== remote)
      throw new ExternalError('CLUSTER_BUSY', `an embedded cluster not started by the pipeline runs in ${stateDir}`, {
        hint: 'stop it with `npx shipway cluster down`, then run the pipeline again',
      });
    return stackOf(current, remote, stateDir, false);
  }
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const { writeAtomically } = await import('../adapters/fs/write-atomically.js');
  await writeAtomically(join(stateDir, 'stack.json'), JSON.stringify({ remote }));
  context.progress('starting the local stack: embedded registry and cluster (stop it with `npx shipway cluster down`)');
  const log = openSync(join(stateDir, 'daemon.log'), 'a');
  const child = spawn(
    process.execPath,
    [MAIN, 'cluster', 'up', '--state-dir', stateDir, '--remote', remote, '--registry-dir', join(root, 'registry')],
    { cwd: context.cwd, env: { ...context.env }, stdio: ['ignore', log, log], detached: true },
  );
  child.unref();
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
    const files = readStack(stateDir);
    if (files.cluster?.pid === child.pid && (await running(files))) return stackOf(files, remote, stateDir, true);
    if (child.exitCode !== null) break;
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new ExternalError('CLUSTER_START_FAILED', 'the embedded cluster did not start', {
    hint: `see ${join(stateDir, 'daemon.log')}`,
  });
}

function stackOf(files: ClusterFiles, remote: string, stateDir: string, started: boolean): LocalStack {
  const { cluster, registry } = files;
  if (cluster === undefined || registry === undefined) throw new Error('the local stack has no state files');
  return {
    remote,
    stateDir,
    kubeconfig: join(stateDir, 'kubeconfig'),
    registry: registry.url,
    api: cluster.api,
    urls: cluster.urls,
    pid: cluster.pid,
    started,
  };
}
