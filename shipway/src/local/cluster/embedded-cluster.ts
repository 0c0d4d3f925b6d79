import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeAtomically } from '../../adapters/fs/write-atomically.js';
import { processStat } from '../../adapters/process/process-stat.js';
import { ApiServer } from './api-server.js';
import { AppFollowers } from './app-followers.js';
import { readAppRecords } from './app-records.js';
import { CanaryController } from './canary-controller.js';
import { ObjectStore } from './object-store.js';
import { PodRuntime } from './pod-runtime.js';
import { createServingCertificate, type ServingCertificate } from './serving-certificate.js';
import { GIT_WORK_DIR, makePrivate, writePrivateFile } from './state-dir.js';
import { CLUSTER_FILE, type ClusterInfo, readClusterInfo } from './state-files.js';

export type { AppRegistration, EnvironmentState } from './app-followers.js';

export interface ClusterOptions {
  readonly stateDir: string;
  readonly path: string | undefined;
  readonly apiPort?: number;
  /** The app whose environment URLs cluster.json lists as `urls` (the repository `cluster up` ran in). */
  readonly primary?: string | undefined;
  /** How often the apps dir is read for new, changed and removed app records. */
  readonly watchMs?: number;
  /** Called last by down(): what runs beside the cluster (the embedded registry, the lock) stops with it. */
  readonly onDown?: () => Promise<unknown>;
}

export type { ClusterInfo } from './state-files.js';

/**
 * The embedded cluster: the API server, Git sync (the Argo CD part) for every app registered in
 * <state-dir>/apps, the canary controller (the Argo Rollouts part), pods as processes, and one
 * front proxy per app and environment. Apps registered while it runs are followed within
 * `watchMs`, without a restart. State lives in the state dir (mode 0700): the object store, the
 * kubeconfig (0600, with the API's bearer token and its self-signed certificate, both new on
 * every `cluster up`), pulled images, pod logs, the pods' process records, Git scratch dirs, the
 * app records and cluster.json (the API address and each environment's URL, reused on the next
 * `cluster up`). The caller claims the state dir first (state-dir.ts: claimStateDir).
 */
export class EmbeddedCluster {
  private readonly store: ObjectStore;
  private readonly api: ApiServer;
  private readonly pods: PodRuntime;
  private readonly controller: CanaryController;
  private followers: AppFollowers | undefined;
  private watcher: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private info: ClusterInfo | undefined;
  /** The API's credential: 256 random bits, known only to this process and the kubeconfig. */
  private readonly token = randomBytes(32).toString('base64url');
  /** The API's TLS key (kept in memory only) and certificate (pinned by the kubeconfig). */
  private readonly tls: ServingCertificate = createServingCertificate(new Date());

  constructor(private readonly options: ClusterOptions) {
    this.store = new ObjectStore(join(options.stateDir, 'objects.json'));
    this.pods = new PodRuntime(options.stateDir, () => this.controller.kick());
    this.controller = new CanaryController(this.store, this.pods);
    this.api = new ApiServer(this.store, {
      token: this.token,
      tls: this.tls,
      hooks: {
        extra: new Map<string, () => unknown>([
          ['/shipway/v1/status', () => this.status()],
          ['/shipway/v1/apps', () => this.followers?.registrations() ?? []],
        ]),
      },
      namespaces: () => this.followers?.namespaces() ?? [],
    });
  }

  async up(): Promise<ClusterInfo> {
    const { stateDir } = this.options;
    await makePrivate(stateDir);
    const previous = readClusterInfo(stateDir);
    await this.store.load();
    // The last port when it is free (kubeconfigs copied elsewhere keep working), else a new one.
    const apiUrl =
      this.options.apiPort === undefined
        ? await this.api.listen(portOf(previous?.api) ?? 0).catch(() => this.api.listen(0))
        : await this.api.listen(this.options.apiPort);
    await writePrivateFile(join(stateDir, 'kubeconfig'), kubeconfig(apiUrl, this.token, this.tls.cert));
    const gitDir = join(stateDir, GIT_WORK_DIR);
    await mkdir(gitDir, { recursive: true, mode: 0o700 });
    const previousUrls = previous?.apps ?? {};
    this.followers = new AppFollowers({
      store: this.store,
      pods: this.pods,
      path: this.options.path,
      gitDir,
      previousUrls,
    });
    this.controller.start();
    await this.refreshApps(true);
    this.watcher = setInterval(() => void this.refreshApps(false), this.options.watchMs ?? 300);
    return this.info ?? (await this.writeInfo());
  }

  /** Follows the app records as they are now; cluster.json follows the URLs. */
  private refreshApps(force: boolean): Promise<void> {
    if (this.refreshing !== undefined) return this.refreshing;
    this.refreshing = (async () => {
      const followers = this.followers;
      if (followers === undefined) return;
      const { records, invalid } = await readAppRecords(this.options.stateDir);
      if ((await followers.update(records, invalid)) || force) await this.writeInfo();
    })()
      .catch(() => undefined)
      .finally(() => {
        this.refreshing = undefined;
      });
    return this.refreshing;
  }

  private async writeInfo(): Promise<ClusterInfo> {
    const stat = processStat(process.pid);
    const own = stat === undefined ? undefined : { startTime: stat.startTime, bootId: stat.bootId };
    const apps = this.followers?.urls() ?? {};
    const primary = this.options.primary === undefined ? undefined : apps[this.options.primary];
    const info: ClusterInfo = { pid: process.pid, process: own, api: this.api.url, urls: primary ?? {}, apps };
    await writeAtomically(join(this.options.stateDir, CLUSTER_FILE), JSON.stringify(info, null, 2));
    this.info = info;
    return info;
  }

  async down(): Promise<void> {
    clearInterval(this.watcher);
    await this.refreshing;
    const followers = this.followers;
    this.followers = undefined;
    this.controller.stop();
    await this.pods.close();
    await followers?.close();
    await this.api.close();
    await this.store.flushed();
    await this.options.onDown?.();
  }

  status() {
    return this.followers?.status() ?? [];
  }
}

function portOf(url: string | undefined): number | undefined {
  if (url === undefined) return undefined;
  const port = Number(new URL(url).port);
  return Number.isInteger(port) && port > 0 ? port : undefined;
}

function kubeconfig(server: string, token: string, cert: string): string {
  const authority = Buffer.from(cert).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    `clusters: [{name: shipway-embedded, cluster: {server: "${server}", certificate-authority-data: "${authority}"}}]`,
    `users: [{name: shipway, user: {token: "${token}"}}]`,
    'contexts: [{name: shipway-embedded, context: {cluster: shipway-embedded, user: shipway}}]',
    'current-context: shipway-embedded',
    '',
  ].join('\n');
}
