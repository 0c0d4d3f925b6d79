import { GitScratch } from '../../adapters/git/git-scratch.js';
import { rolloutSchema } from '../../core/rollout/rollout-object.js';
import { type RolloutView, rolloutView } from '../../core/rollout/rollout-view.js';
import { type AppRecord, admitApps, type Refusal } from '../../core/stack/app-record.js';
import type { InvalidRecord } from './app-records.js';
import { FrontProxy } from './front-proxy.js';
import { GitSync, type SyncState } from './git-sync.js';
import type { ObjectStore } from './object-store.js';
import type { PodRuntime } from './pod-runtime.js';

interface Followed {
  readonly record: AppRecord;
  readonly scratch: GitScratch;
  readonly sync: GitSync;
  readonly proxies: Map<string, FrontProxy>;
}

export interface FollowerDeps {
  readonly store: ObjectStore;
  readonly pods: PodRuntime;
  readonly path: string | undefined;
  /** Where Git scratch dirs go (inside the state dir). */
  readonly gitDir: string;
  /** Each app's environment URLs from the last `cluster up`, reused when the port is free. */
  readonly previousUrls: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/** What the cluster says about one app record: followed, or why not. */
export interface AppRegistration {
  readonly app: string;
  readonly key: string;
  readonly remote: string;
  readonly checkout: string;
  readonly environments: readonly string[];
  readonly error: string | null;
}

export interface EnvironmentState {
  readonly app: string;
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

/** What makes a new follower necessary; a re-registration that changes none of it changes nothing. */
const followedPart = (record: AppRecord) => JSON.stringify([record.app, record.remote, record.environments]);
const IDENTITY = { name: 'shipway-cluster', email: 'shipway@localhost' };
/** What Git sync applies, and the controller derives, per namespace. */
const KINDS = ['Rollout', 'ReplicaSet', 'AnalysisRun', 'AnalysisTemplate', 'ConfigMap', 'Secret'];

/**
 * The apps the cluster follows, one Argo CD Application per environment each: a Git sync of the
 * app's environment branches into its own namespaces, and a front proxy per environment. Apps
 * come and go while the cluster runs; an app's change never touches another app's followers.
 */
export class AppFollowers {
  readonly apps = new Map<string, Followed>();
  private refused: readonly Refusal[] = [];
  private invalid: readonly InvalidRecord[] = [];
  private readonly seen = new Map<string, AppRecord>();

  constructor(private readonly deps: FollowerDeps) {}

  /** Follows exactly the admitted `records`; returns whether any app or URL changed. */
  async update(records: readonly AppRecord[], invalid: readonly InvalidRecord[]): Promise<boolean> {
    // A record that became unreadable (a half-edited file) keeps its last good version running.
    const kept = invalid.flatMap((bad) => {
      const followed = this.apps.get(bad.file.replace(/\.json$/, ''));
      return followed === undefined ? [] : [followed.record];
    });
    const admission = admitApps([...records, ...kept], new Set(this.apps.keys()));
    this.refused = admission.refused;
    this.invalid = invalid;
    for (const record of records) this.seen.set(record.key, record);
    // An app that is followed anew keeps its URLs (the ports are free again once its proxies close).
    const urls = { ...this.deps.previousUrls, ...this.urls() };
    const wanted = new Map(admission.admitted.map((record) => [record.key, record]));
    let changed = false;
    for (const [key, followed] of this.apps) {
      const next = wanted.get(key);
      if (next !== undefined && followedPart(next) === followedPart(followed.record)) continue;
      await this.unfollow(key, next === undefined);
      changed = true;
    }
    for (const record of wanted.values()) {
      if (this.apps.has(record.key)) continue;
      await this.follow(record, urls[record.app] ?? {});
      changed = true;
    }
    return changed;
  }

  private async follow(record: AppRecord, previous: Readonly<Record<string, string>>): Promise<void> {
    const scratch = await GitScratch.create(record.remote, undefined, IDENTITY, this.deps.gitDir);
    const sync = new GitSync(scratch, record.environments, this.deps.store, this.deps.path, this.deps.gitDir);
    const proxies = new Map<string, FrontProxy>();
    for (const env of record.environments) {
      const proxy = new FrontProxy(() =>
        this.deps.pods.list(`${env.namespace}/${env.rollout}`).filter((pod) => pod.state === 'ready'),
      );
      await proxy.listen(portOf(previous[env.name]) ?? 0).catch(() => proxy.listen(0));
      proxies.set(env.name, proxy);
    }
    this.apps.set(record.key, { record, scratch, sync, proxies });
    sync.start();
  }

  /**
   * Stops following an app. `remove`: it left the stack (its record was deleted), so what it
   * ran goes too: its objects and pods in its own namespaces, nobody else's.
   */
  private async unfollow(key: string, remove: boolean): Promise<void> {
    const followed = this.apps.get(key);
    if (followed === undefined) return;
    this.apps.delete(key);
    await followed.sync.stop();
    await followed.scratch.dispose();
    for (const proxy of followed.proxies.values()) await proxy.close();
    if (!remove) return;
    for (const env of followed.record.environments) {
      for (const kind of KINDS)
        for (const object of this.deps.store.list(kind, env.namespace))
          this.deps.store.delete(kind, env.namespace, object.metadata.name);
      const pods = this.deps.pods.list().filter((pod) => pod.spec.owner.startsWith(`${env.namespace}/`));
      await Promise.all(pods.map((pod) => this.deps.pods.stop(pod)));
    }
  }

  async close(): Promise<void> {
    for (const key of [...this.apps.keys()]) await this.unfollow(key, false);
  }

  namespaces(): string[] {
    return [...this.apps.values()].flatMap((followed) => followed.record.environments.map((env) => env.namespace));
  }

  /** Each followed app's environment URLs, by app name. */
  urls(): Record<string, Record<string, string>> {
    return Object.fromEntries(
      [...this.apps.values()].map((followed) => [
        followed.record.app,
        Object.fromEntries([...followed.proxies].map(([env, proxy]) => [env, proxy.url])),
      ]),
    );
  }

  /** Every followed app's environments: sync, rollout, pods and URL. */
  status(): EnvironmentState[] {
    return [...this.apps.values()]
      .sort((a, b) => a.record.app.localeCompare(b.record.app))
      .flatMap((followed) => followed.record.environments.map((env) => this.environmentState(followed, env)));
  }

  private environmentState(followed: Followed, env: AppRecord['environments'][number]): EnvironmentState {
    const { store } = this.deps;
    const object = store.get('Rollout', env.namespace, env.rollout);
    const rollout = object === undefined ? null : rolloutSchema.parse(object);
    const stableRevision = rollout?.status?.stableRS;
    const stable =
      stableRevision === undefined
        ? undefined
        : store.get('ReplicaSet', env.namespace, `${env.rollout}-${stableRevision}`);
    const stableImage =
      ((stable?.spec as { template?: { spec?: { containers?: { image?: string }[] } } } | undefined)?.template?.spec
        ?.containers ?? [])[0]?.image ?? null;
    return {
      app: followed.record.app,
      environment: env.name,
      namespace: env.namespace,
      url: followed.proxies.get(env.name)?.url ?? '',
      sync: followed.sync.state.get(env.name) ?? null,
      rollout: rollout === null ? null : rolloutView(rollout, stableImage),
      pods: this.deps.pods.list(`${env.namespace}/${env.rollout}`).map((pod) => ({
        name: pod.name,
        revision: pod.spec.revision,
        state: pod.state,
        restarts: pod.restarts,
        error: pod.error ?? null,
        pid: pod.child?.pid ?? null,
        port: pod.port,
      })),
    };
  }

  registrations(): AppRegistration[] {
    const followed = [...this.apps.values()].map(({ record }) => registration(record, null));
    const refused = this.refused.flatMap((refusal) => {
      const record = this.seen.get(refusal.key);
      return record === undefined ? [] : [registration(record, `${refusal.reason} (${refusal.code})`)];
    });
    const invalid = this.invalid.map((bad) => ({
      app: '',
      key: bad.file,
      remote: '',
      checkout: '',
      environments: [],
      error: `invalid app record ${bad.file}: ${bad.problem}`,
    }));
    return [...followed, ...refused, ...invalid].sort((a, b) => a.app.localeCompare(b.app));
  }
}

function registration(record: AppRecord, error: string | null): AppRegistration {
  return {
    app: record.app,
    key: record.key,
    remote: record.remote,
    checkout: record.checkout,
    environments: record.environments.map((env) => env.name),
    error,
  };
}

function portOf(url: string | undefined): number | undefined {
  if (url === undefined) return undefined;
  const port = Number(new URL(url).port);
  return Number.isInteger(port) && port > 0 ? port : undefined;
}
