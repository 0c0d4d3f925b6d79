import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ExternalError } from '../core/errors.js';
import { type ClusterInfo, EmbeddedCluster, type EnvironmentState } from '../local/cluster/embedded-cluster.js';
import { claimStateDir, clusterRunning, reapLeftovers } from '../local/cluster/state-dir.js';
import { clusterAccess } from './cluster-access.js';
import type { AppContext } from './context.js';
import { fetchClusterStatus } from './environment-summary.js';
import { resolveRemote } from './git-remote.js';
import { loadShipwayConfig } from './load-config.js';

export { DEFAULT_STATE_DIR } from './defaults.js';

export interface ClusterOptions {
  readonly stateDir: string;
  readonly configFile?: string | undefined;
  readonly apiPort?: number | undefined;
  /** The Git remote to follow instead of shipway.yaml's git.remote (the local pipeline's stand-in for GitLab). */
  readonly remote?: string | undefined;
  /** Also serve the embedded registry from this directory, in the same process. */
  readonly registryDir?: string | undefined;
}

/** What `cluster up --registry-dir` adds to the state dir: the registry's address, reused on restart. */
export interface RegistryInfo {
  readonly url: string;
}

/**
 * `shipway cluster up`: start the embedded cluster in this process. Before anything starts it
 * claims the state dir: refused while another cluster serves it; pods and Git scratch dirs that
 * a killed cluster left behind are reaped.
 */
export async function startCluster(
  context: AppContext,
  options: ClusterOptions,
): Promise<{ cluster: EmbeddedCluster; info: ClusterInfo }> {
  const config = await loadShipwayConfig(context, options.configFile);
  const remote = await resolveRemote(context, options.remote ?? config.git.remote);
  const stateDir = resolve(context.cwd, options.stateDir);
  const reaped = await claimStateDir(stateDir);
  if (reaped.length > 0)
    context.progress(`stopped ${reaped.length} pod process(es) left running by a cluster that was killed`);
  const registry =
    options.registryDir === undefined ? undefined : await startRegistry(context, stateDir, options.registryDir);
  const cluster = new EmbeddedCluster({
    stateDir,
    config,
    remote: remote.url,
    path: context.env.PATH,
    ...(options.apiPort === undefined ? {} : { apiPort: options.apiPort }),
    ...(registry === undefined ? {} : { onDown: () => registry.close() }),
  });
  return { cluster, info: await cluster.up() };
}

/** The embedded registry beside the cluster, on the port it had last time (image references name it). */
async function startRegistry(context: AppContext, stateDir: string, dir: string) {
  const { createRegistryServer } = await import('../local/registry/registry-server.js');
  const { writeAtomically } = await import('../adapters/fs/write-atomically.js');
  const file = resolve(stateDir, 'registry.json');
  const previous = await readFile(file, 'utf8')
    .then((text) => JSON.parse(text) as RegistryInfo)
    .catch(() => undefined);
  const server = await createRegistryServer({ dir: resolve(context.cwd, dir) });
  const port = previous === undefined ? 0 : Number(new URL(`http://${previous.url}`).port);
  const address = await server
    .listen({ port, host: '127.0.0.1' })
    .catch(() => server.listen({ port: 0, host: '127.0.0.1' }));
  const info: RegistryInfo = { url: new URL(address).host };
  await writeAtomically(file, JSON.stringify(info));
  return server;
}

async function readInfo(context: AppContext, stateDir: string): Promise<ClusterInfo> {
  try {
    return JSON.parse(await readFile(resolve(context.cwd, stateDir, 'cluster.json'), 'utf8')) as ClusterInfo;
  } catch (error) {
    throw new ExternalError('CLUSTER_DOWN', `no embedded cluster state in ${stateDir}`, {
      cause: error,
      hint: 'start it with `shipway cluster up`',
    });
  }
}

/** `shipway cluster status`: each environment's revision, image, phase, step, pods and URL. */
export async function clusterStatus(
  context: AppContext,
  options: ClusterOptions,
): Promise<{ info: ClusterInfo; environments: EnvironmentState[] }> {
  const info = await readInfo(context, options.stateDir);
  const access = clusterAccess(resolve(context.cwd, options.stateDir, 'kubeconfig'));
  return { info, environments: await fetchClusterStatus(access, 'start it with `shipway cluster up`') };
}

/**
 * `shipway cluster down`: stop the cluster started by `cluster up` (its pods drain first). When
 * that cluster was killed instead, the pods and Git scratch dirs it left behind are reaped.
 */
export async function stopCluster(
  context: AppContext,
  options: ClusterOptions,
): Promise<{ stopped: boolean; pid: number; reaped: number }> {
  const info = await readInfo(context, options.stateDir);
  if (!clusterRunning(info)) {
    const reaped = await reapLeftovers(resolve(context.cwd, options.stateDir));
    return { stopped: false, pid: info.pid, reaped: reaped.length };
  }
  process.kill(info.pid, 'SIGTERM');
  for (let waited = 0; waited < 60_000; waited += 100) {
    if (!clusterRunning(info)) return { stopped: true, pid: info.pid, reaped: 0 };
    await sleep(100);
  }
  throw new ExternalError('CLUSTER_STUCK', `the embedded cluster (pid ${info.pid}) did not stop within 60 s`);
}
