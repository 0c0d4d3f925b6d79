import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ExternalError } from '../core/errors.js';
import { type AppRecord, appRecordOf } from '../core/stack/app-record.js';
import { appsDirOf, forgetApp, registerApp } from '../local/cluster/app-records.js';
import {
  type AppRegistration,
  type ClusterInfo,
  EmbeddedCluster,
  type EnvironmentState,
} from '../local/cluster/embedded-cluster.js';
import { claimStateDir, clusterRunning, reapLeftovers } from '../local/cluster/state-dir.js';
import { REGISTRY_FILE, type RegistryInfo, readClusterInfo, readRegistryInfo } from '../local/cluster/state-files.js';
import { clusterAccess } from './cluster-access.js';
import type { AppContext } from './context.js';
import { fetchClusterApps, fetchClusterStatus } from './environment-summary.js';
import { resolveRemote } from './git-remote.js';
import { CONFIG_FILE, loadShipwayConfig } from './load-config.js';
import { projectKeyOf } from './project-key-of.js';
import { openStackHome } from './shipway-home.js';

export interface ClusterOptions {
  /** Default: the per-user stack's (SHIPWAY_HOME/cluster). */
  readonly stateDir?: string | undefined;
  /** Default: shipway.yaml when the directory has one; `cluster up` then also follows that app. */
  readonly configFile?: string | undefined;
  readonly apiPort?: number | undefined;
  /** The Git remote to follow instead of shipway.yaml's git.remote. */
  readonly remote?: string | undefined;
  /** Also serve the embedded registry from this directory (default: the stack's, with the stack's state dir). */
  readonly registryDir?: string | undefined;
}

/**
 * The state dir (and registry dir) these options name: the per-user stack's unless told
 * otherwise, checked (shipway-home.ts) and, for `cluster up` only, created.
 */
export async function clusterDirs(context: AppContext, options: ClusterOptions, create = false) {
  if (options.stateDir !== undefined)
    return {
      stateDir: resolve(context.cwd, options.stateDir),
      registryDir: options.registryDir === undefined ? undefined : resolve(context.cwd, options.registryDir),
    };
  const paths = await openStackHome(context, { create });
  return {
    stateDir: paths.cluster,
    registryDir: options.registryDir === undefined ? paths.registry : resolve(context.cwd, options.registryDir),
  };
}

/** The app of the repository `cluster up` runs in, following its git.remote (or --remote). */
async function primaryApp(context: AppContext, options: ClusterOptions): Promise<AppRecord | undefined> {
  if (options.configFile === undefined && !existsSync(resolve(context.cwd, CONFIG_FILE))) return undefined;
  const config = await loadShipwayConfig(context, options.configFile);
  const remote = await resolveRemote(context, options.remote ?? config.git.remote);
  const { key, checkout } = await projectKeyOf(context, config.app);
  return appRecordOf(config, { key, remote: remote.url, checkout, registeredAt: new Date().toISOString() });
}

/**
 * `shipway cluster up`: start the embedded cluster in this process. Before anything starts it
 * claims the state dir (its lock: refused while another cluster serves it; pods and Git scratch
 * dirs that a killed cluster left behind are reaped), then registers the repository's app, if
 * it runs in one. It follows every app registered in the state dir.
 */
export async function startCluster(
  context: AppContext,
  options: ClusterOptions,
): Promise<{ cluster: EmbeddedCluster; info: ClusterInfo }> {
  const primary = await primaryApp(context, options);
  const { stateDir, registryDir } = await clusterDirs(context, options, true);
  const claim = await claimStateDir(stateDir);
  if (claim.reaped.length > 0)
    context.progress(`stopped ${claim.reaped.length} pod process(es) left running by a cluster that was killed`);
  const closers: (() => Promise<unknown>)[] = [claim.release];
  const closeAll = async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
  };
  try {
    if (primary !== undefined) await registerApp(stateDir, primary);
    if (registryDir !== undefined) {
      const registry = await startRegistry(stateDir, registryDir);
      closers.push(() => registry.close());
    }
    const cluster = new EmbeddedCluster({
      stateDir,
      path: context.env.PATH,
      primary: primary?.app,
      ...(options.apiPort === undefined ? {} : { apiPort: options.apiPort }),
      onDown: closeAll,
    });
    return { cluster, info: await cluster.up() };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/** The embedded registry beside the cluster, on the port it had last time (image references name it). */
async function startRegistry(stateDir: string, dir: string) {
  const { createRegistryServer } = await import('../local/registry/registry-server.js');
  const { writeAtomically } = await import('../adapters/fs/write-atomically.js');
  // The registry's address from last time, reused on restart.
  const previous = readRegistryInfo(stateDir);
  const server = await createRegistryServer({ dir });
  const port = previous === undefined ? 0 : Number(new URL(`http://${previous.url}`).port);
  const address = await server
    .listen({ port, host: '127.0.0.1' })
    .catch(() => server.listen({ port: 0, host: '127.0.0.1' }));
  const info: RegistryInfo = { url: new URL(address).host };
  await writeAtomically(resolve(stateDir, REGISTRY_FILE), JSON.stringify(info));
  return server;
}

async function readInfo(stateDir: string): Promise<ClusterInfo> {
  const info = readClusterInfo(stateDir);
  if (info === undefined)
    throw new ExternalError('CLUSTER_DOWN', `no embedded cluster state in ${stateDir}`, {
      hint: 'start it with `shipway cluster up` (or `shipway run`)',
    });
  return info;
}

/** `shipway cluster status`: every app and environment: revision, image, phase, step, pods and URL. */
export async function clusterStatus(
  context: AppContext,
  options: ClusterOptions,
): Promise<{ info: ClusterInfo; apps: AppRegistration[]; environments: EnvironmentState[] }> {
  const { stateDir } = await clusterDirs(context, options);
  const info = await readInfo(stateDir);
  const access = clusterAccess(resolve(stateDir, 'kubeconfig'));
  const hint = 'start it with `shipway cluster up` (or `shipway run`)';
  const environments = await fetchClusterStatus(access, hint);
  return { info, apps: await fetchClusterApps(access, hint), environments };
}

/** `shipway cluster forget <app>`: the cluster stops following the app, and stops its pods. */
export async function forgetClusterApp(
  context: AppContext,
  options: ClusterOptions & { readonly app: string },
): Promise<{ forgotten: string[] }> {
  const { stateDir } = await clusterDirs(context, options);
  const removed = existsSync(appsDirOf(stateDir)) ? await forgetApp(stateDir, options.app) : [];
  if (removed.length === 0)
    throw new ExternalError('APP_UNKNOWN', `no app ${options.app} is registered in ${stateDir}`, {
      hint: 'see `shipway cluster status` for the apps',
    });
  return { forgotten: removed.map((record) => record.key) };
}

/**
 * `shipway cluster down`: stop the cluster started by `cluster up` (its pods drain first). When
 * that cluster was killed instead, the pods and Git scratch dirs it left behind are reaped.
 */
export async function stopCluster(
  context: AppContext,
  options: ClusterOptions,
): Promise<{ stopped: boolean; pid: number; reaped: number }> {
  const { stateDir } = await clusterDirs(context, options);
  const info = await readInfo(stateDir);
  if (!clusterRunning(info)) {
    const reaped = await reapLeftovers(stateDir);
    return { stopped: false, pid: info.pid, reaped: reaped.length };
  }
  process.kill(info.pid, 'SIGTERM');
  for (let waited = 0; waited < 60_000; waited += 100) {
    if (!clusterRunning(info)) return { stopped: true, pid: info.pid, reaped: 0 };
    await sleep(100);
  }
  throw new ExternalError('CLUSTER_STUCK', `the embedded cluster (pid ${info.pid}) did not stop within 60 s`);
}
