import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeAtomically } from '../../adapters/fs/write-atomically.js';
import { GitScratch } from '../../adapters/git/git-scratch.js';
import { type ProcessIdentity, processStat } from '../../adapters/process/process-stat.js';
import type { ShipwayConfig } from '../../core/config/shipway-config.js';
import { rolloutSchema } from '../../core/rollout/rollout-object.js';
import { type RolloutView, rolloutView } from '../../core/rollout/rollout-view.js';
import { ApiServer } from './api-server.js';
import { CanaryController } from './canary-controller.js';
import { FrontProxy } from './front-proxy.js';
import { GitSync, type SyncState } from './git-sync.js';
import { ObjectStore } from './object-store.js';
import { PodRuntime } from './pod-runtime.js';
import { createServingCertificate, type ServingCertificate } from './serving-certificate.js';
import { GIT_WORK_DIR, makePrivate, writePrivateFile } from './state-dir.js';

export interface ClusterOptions {
  readonly stateDir: string;
  readonly config: ShipwayConfig;
  readonly remote: string;
  readonly path: string | undefined;
  readonly apiPort?: number;
  /** Called last by down(): what runs beside the cluster (the embedded registry) stops with it. */
  readonly onDown?: () => Promise<unknown>;
}

export interface EnvironmentState {
  readonly environment: string;
  readonly namespace: string;
  readonly url: string;
  readonly sync: SyncState | null;
  readonly rollout: RolloutView | null;
  readonly pods: readonly {
    readonly name: string;
    readonly revision: string;
    readonly state: string;
    readonly restarts: number;
    readonly error: string | null;
    readonly pid: number | null;
    /** The loopback port the pod listens on (what `shipway analysis run --against <env>` scrapes). */
    readonly port: number;
  }[];
}

export interface ClusterInfo {
  readonly pid: number;
  /** Tells the cluster process apart from a later one reusing its pid (Linux; absent elsewhere). */
  readonly process?: ProcessIdentity | undefined;
  readonly api: string;
  readonly urls: Record<string, string>;
}

/**
 * The embedded cluster: the API server, Git sync (the Argo CD part), the canary controller (the
 * Argo Rollouts part), pods as processes, and one front proxy per environment. State lives in
 * the state dir (mode 0700): the object store, the kubeconfig (0600, with the API's bearer token
 * and its self-signed certificate, both new on every `cluster up`), pulled images, pod logs, the pods' process records, Git scratch
 * dirs and cluster.json (the API address and each environment's stable URL, reused on the next
 * `cluster up`). The caller claims the state dir first (state-dir.ts: claimStateDir).
 */
export class EmbeddedCluster {
  private readonly store: ObjectStore;
  private readonly api: ApiServer;
  private readonly pods: PodRuntime;
  private readonly controller: CanaryController;
  private readonly proxies = new Map<string, FrontProxy>();
  private sync: GitSync | undefined;
  private scratch: GitScratch | undefined;
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
      hooks: { extra: new Map([['/shipway/v1/status', () => this.status()]]) },
      namespaces: () => options.config.environments.map((env) => env.namespace),
    });
  }

  async up(): Promise<ClusterInfo> {
    const previous = await readFile(join(this.options.stateDir, 'cluster.json'), 'utf8')
      .then((text) => JSON.parse(text) as ClusterInfo)
      .catch(() => undefined);
    await makePrivate(this.options.stateDir);
    await this.store.load();
    // The last port when it is free (kubeconfigs copied elsewhere keep working), else a new one.
    const apiUrl =
      this.options.apiPort === undefined
        ? await this.api.listen(portOf(previous?.api) ?? 0).catch(() => this.api.listen(0))
        : await this.api.listen(this.options.apiPort);
    await writePrivateFile(join(this.options.stateDir, 'kubeconfig'), kubeconfig(apiUrl, this.token, this.tls.cert));
    const urls: Record<string, string> = {};
    for (const env of this.options.config.environments) {
      const proxy = new FrontProxy(() =>
        this.pods
          .list(`${env.namespace}/${env.rollout?.name ?? this.options.config.app}`)
          .filter((pod) => pod.state === 'ready'),
      );
      urls[env.name] = await proxy.listen(portOf(previous?.urls[env.name]) ?? 0).catch(() => proxy.listen(0));
      this.proxies.set(env.name, proxy);
    }
    this.controller.start();
    const gitDir = join(this.options.stateDir, GIT_WORK_DIR);
    await mkdir(gitDir, { recursive: true, mode: 0o700 });
    const identity = { name: 'shipway-cluster', email: 'shipway@localhost' };
    this.scratch = await GitScratch.create(this.options.remote, undefined, identity, gitDir);
    this.sync = new GitSync(this.scratch, this.options.config.environments, this.store, this.options.path, gitDir);
    this.sync.start();
    const stat = processStat(process.pid);
    const own = stat === undefined ? undefined : { startTime: stat.startTime, bootId: stat.bootId };
    const info: ClusterInfo = { pid: process.pid, process: own, api: apiUrl, urls };
    await writeAtomically(join(this.options.stateDir, 'cluster.json'), JSON.stringify(info, null, 2));
    return info;
  }

  async down(): Promise<void> {
    this.sync?.stop();
    this.controller.stop();
    await this.pods.close();
    for (const proxy of this.proxies.values()) await proxy.close();
    await this.api.close();
    await this.store.flushed();
    await this.scratch?.dispose();
    await this.options.onDown?.();
  }

  status(): EnvironmentState[] {
    return this.options.config.environments.map((env) => {
      const name = env.rollout?.name ?? this.options.config.app;
      const object = this.store.get('Rollout', env.namespace, name);
      const rollout = object === undefined ? null : rolloutSchema.parse(object);
      const stableRevision = rollout?.status?.stableRS;
      const stable =
        stableRevision === undefined
          ? undefined
          : this.store.get('ReplicaSet', env.namespace, `${name}-${stableRevision}`);
      const stableImage =
        ((stable?.spec as { template?: { spec?: { containers?: { image?: string }[] } } } | undefined)?.template?.spec
          ?.containers ?? [])[0]?.image ?? null;
      return {
        environment: env.name,
        namespace: env.namespace,
        url: this.proxies.get(env.name)?.url ?? '',
        sync: this.sync?.state.get(env.name) ?? null,
        rollout: rollout === null ? null : rolloutView(rollout, stableImage),
        pods: this.pods.list(`${env.namespace}/${name}`).map((pod) => ({
          name: pod.name,
          revision: pod.spec.revision,
          state: pod.state,
          restarts: pod.restarts,
          error: pod.error ?? null,
          pid: pod.child?.pid ?? null,
          port: pod.port,
        })),
      };
    });
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
