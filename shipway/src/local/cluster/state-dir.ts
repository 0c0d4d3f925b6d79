import { randomBytes } from 'node:crypto';
import { chmod, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tryLock } from '../../adapters/files/exclusive-lock.js';
import { processAlive } from '../../adapters/process/process-alive.js';
import { type ProcessIdentity, sameProcessRunning } from '../../adapters/process/process-stat.js';
import { ExternalError } from '../../core/errors.js';
import { PodProcessRecords } from './pod-records.js';

/** Where the cluster keeps its Git scratch repositories and exported trees (not the OS temp dir). */
export const GIT_WORK_DIR = 'git';

/** Held by the process serving the cluster, for as long as it runs (adapters/files/exclusive-lock.ts). */
export const CLUSTER_LOCK = 'cluster.lock';

/** What cluster.json says about the process serving the cluster. */
export interface ClusterProcessInfo {
  readonly pid: number;
  /** The process's start time and boot id (absent in files written before they were recorded). */
  readonly process?: ProcessIdentity | undefined;
}

/**
 * The state dir, created or narrowed to 0700: it holds the kubeconfig with the API's token, the
 * object store, pod logs and images, which no other user of the machine may read.
 */
export async function makePrivate(stateDir: string): Promise<void> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  await chmod(stateDir, 0o700);
}

/** Replaces `path` atomically with a file only its owner can read (0600 from the first byte). */
export async function writePrivateFile(path: string, content: string): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await writeFile(temporary, content, { mode: 0o600, flag: 'wx' });
  await rename(temporary, path);
}

/** Whether the cluster process that cluster.json names is still that process (not a reused pid). */
export function clusterRunning(info: ClusterProcessInfo): boolean {
  return info.process === undefined ? processAlive(info.pid) : sameProcessRunning(info.pid, info.process);
}

/**
 * What a cluster that was killed (SIGKILL, OOM, a crash) left behind: its pods, which keep
 * running as their own process groups, and its Git scratch dirs. Returns the pids it killed.
 */
export async function reapLeftovers(stateDir: string): Promise<number[]> {
  const reaped = await new PodProcessRecords(join(stateDir, 'pods')).reap();
  // A git clone or fetch the killed cluster started is not in a pod's group and may still be
  // writing there for a moment: rm retries ENOTEMPTY (linear back-off, ~5 s in all).
  await rm(join(stateDir, GIT_WORK_DIR), { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  return reaped;
}

/**
 * Before `cluster up` starts anything: makes the state dir private, takes its lock (held for as
 * long as the cluster runs, so of two `cluster up` racing for one state dir exactly one starts;
 * a lock left by a killed cluster is taken over), and reaps what a killed cluster left behind.
 */
export async function claimStateDir(stateDir: string): Promise<{ reaped: number[]; release: () => Promise<void> }> {
  await makePrivate(stateDir);
  const lock = await tryLock(join(stateDir, CLUSTER_LOCK), 'cluster');
  if (!lock.acquired) {
    throw new ExternalError(
      'CLUSTER_RUNNING',
      `an embedded cluster (pid ${lock.holder.pid}) already runs in ${stateDir}`,
      {
        hint: 'stop it with `shipway cluster down` first, or use another --state-dir',
      },
    );
  }
  try {
    return { reaped: await reapLeftovers(stateDir), release: lock.release };
  } catch (error) {
    await lock.release();
    throw error;
  }
}
