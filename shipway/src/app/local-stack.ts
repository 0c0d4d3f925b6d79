import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBareRepository } from '../adapters/git/init-bare-repository.js';
import type { ShipwayConfig } from '../core/config/shipway-config.js';
import { ExternalError } from '../core/errors.js';
import { appRecordOf } from '../core/stack/app-record.js';
import type { StackPaths } from '../core/stack/stack-paths.js';
import { registerApp } from '../local/cluster/app-records.js';
import { clusterRunning, makePrivate } from '../local/cluster/state-dir.js';
import {
  type ClusterInfo,
  type RegistryInfo,
  readClusterInfo,
  readRegistryInfo,
} from '../local/cluster/state-files.js';
import { recordCheckoutStack } from './checkout-stack.js';
import { clusterAccess } from './cluster-access.js';
import type { AppContext } from './context.js';
import { fetchClusterApps } from './environment-summary.js';
import { projectKeyOf } from './project-key-of.js';
import { openStackHome } from './shipway-home.js';

/** What the local pipeline runs against: GitLab's, the registry's and the cluster's stand-ins. */
export interface LocalStack {
  /** The bare repository standing in for the project on GitLab (SHIPWAY_HOME/gitlab/<key>.git). */
  readonly remote: string;
  /** The project's caches (SHIPWAY_HOME/cache/<key>): job caches and reusable results, shared by its checkouts. */
  readonly caches: string;
  readonly stateDir: string;
  readonly kubeconfig: string;
  /** host:port of the embedded registry. */
  readonly registry: string;
  readonly api: string;
  /** This app's environment URLs. */
  readonly urls: Readonly<Record<string, string>>;
  readonly pid: number;
  readonly started: boolean;
}

const MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

interface StackFiles {
  readonly cluster?: ClusterInfo | undefined;
  readonly registry?: RegistryInfo | undefined;
}

/** The state files `cluster up` writes; a missing one is undefined, a malformed one an ExternalError. */
const readStack = (stateDir: string): StackFiles => ({
  cluster: readClusterInfo(stateDir),
  registry: readRegistryInfo(stateDir),
});

/** The cluster process cluster.json names is alive, its API answers with the kubeconfig's token. */
async function clusterAnswers(stateDir: string, files: StackFiles): Promise<boolean> {
  if (files.cluster === undefined || !clusterRunning(files.cluster)) return false;
  const status = await Promise.resolve()
    .then(() => clusterAccess(join(stateDir, 'kubeconfig')).get('/shipway/v1/status', 2000))
    .catch(() => undefined);
  return status?.status === 200;
}

async function stackAnswers(stateDir: string, files: StackFiles): Promise<boolean> {
  return (
    (await clusterAnswers(stateDir, files)) &&
    files.registry !== undefined &&
    (await answers(`http://${files.registry.url}/v2/`))
  );
}

/** The project's GitLab stand-in: one bare repository per project key, shared by its clones. */
async function standIn(paths: StackPaths, key: string): Promise<string> {
  const remote = join(paths.gitlab, `${key}.git`);
  mkdirSync(paths.gitlab, { recursive: true, mode: 0o700 });
  if (existsSync(join(remote, 'HEAD'))) return remote;
  // git init on an existing repository only re-initialises it: two first runs at once are fine.
  await initBareRepository(remote);
  return remote;
}

/**
 * Starts `shipway cluster up` for the stack in the background, unless it runs. Of several
 * processes doing this at once, exactly one cluster starts (its state-dir lock); the others'
 * children exit, and every caller waits for the one that runs.
 */
async function startStack(context: AppContext, paths: StackPaths): Promise<{ files: StackFiles; started: boolean }> {
  const current = readStack(paths.cluster);
  if (await stackAnswers(paths.cluster, current)) return { files: current, started: false };
  if (await clusterAnswers(paths.cluster, current))
    throw new ExternalError('CLUSTER_BUSY', `an embedded cluster without the registry runs in ${paths.cluster}`, {
      hint: 'stop it with `npx shipway cluster down`, then run the pipeline again',
    });
  context.progress(
    `starting the local stack in ${paths.home}: embedded registry and cluster (stop it with \`npx shipway cluster down\`)`,
  );
  await makePrivate(paths.cluster);
  const log = openSync(join(paths.cluster, 'daemon.log'), 'a', 0o600);
  const child = spawn(
    process.execPath,
    [MAIN, 'cluster', 'up', '--state-dir', paths.cluster, '--registry-dir', paths.registry],
    { cwd: paths.home, env: { ...context.env }, stdio: ['ignore', log, log], detached: true },
  );
  child.unref();
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
    const files = readStack(paths.cluster);
    if (await stackAnswers(paths.cluster, files)) return { files, started: files.cluster?.pid === child.pid };
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new ExternalError('CLUSTER_START_FAILED', 'the embedded cluster did not start', {
    hint: `see ${join(paths.cluster, 'daemon.log')}`,
  });
}

/**
 * Registers the app and waits until the running cluster follows it (its URLs), or says why not
 * (another app's name or namespace; registerApp refuses those first).
 */
async function awaitFollowed(paths: StackPaths, key: string): Promise<Record<string, string>> {
  const access = clusterAccess(paths.kubeconfig);
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
    const mine = (await fetchClusterApps(access, 'restart it: `npx shipway cluster down`')).find(
      (app) => app.key === key,
    );
    if (mine?.error != null)
      throw new ExternalError('APP_NOT_FOLLOWED', `the local cluster does not follow this app: ${mine.error}`);
    const urls = readStack(paths.cluster).cluster?.apps?.[mine?.app ?? ''];
    if (mine !== undefined && urls !== undefined) return urls;
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new ExternalError('APP_NOT_FOLLOWED', `the local cluster did not pick up app record ${key} within 30 s`, {
    hint: `see ${join(paths.cluster, 'daemon.log')}`,
  });
}

/**
 * Makes sure the per-user local stack is up (SHIPWAY_HOME: core/stack/stack-paths.ts): the
 * project's GitLab stand-in, one background `shipway cluster up` serving the embedded cluster
 * and registry for every repository, and this repository's app registered with it. A stack
 * already running is reused (images, Git history and environments carry over). The checkout
 * records the stand-in (.shipway/local-stack.json) for the commands that follow.
 */
export async function ensureLocalStack(context: AppContext, config: ShipwayConfig): Promise<LocalStack> {
  const paths = await openStackHome(context);
  const { key, checkout } = await projectKeyOf(context, config.app);
  const remote = await standIn(paths, key);
  const { started } = await startStack(context, paths);
  const record = appRecordOf(config, { key, remote, checkout, registeredAt: new Date().toISOString() });
  await registerApp(paths.cluster, record);
  const urls = await awaitFollowed(paths, key);
  await recordCheckoutStack(context.cwd, { remote, app: config.app, home: paths.home });
  const { cluster, registry } = readStack(paths.cluster);
  if (cluster === undefined || registry === undefined)
    throw new ExternalError(
      'STACK_STATE_MISSING',
      `the local stack in ${paths.home} lost its state files while starting`,
      {
        hint: 'another `shipway cluster down` may have stopped it: run the command again',
      },
    );
  return {
    remote,
    caches: join(paths.caches, key),
    stateDir: paths.cluster,
    kubeconfig: paths.kubeconfig,
    registry: registry.url,
    api: cluster.api,
    urls,
    pid: cluster.pid,
    started,
  };
}
