import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { GitScratch } from '../../adapters/git/git-scratch.js';
import { renderOverlay } from '../../adapters/kustomize/render-overlay.js';
import type { FollowedEnvironment } from '../../core/stack/app-record.js';
import { type KubeObject, type ObjectStore, toKubeObject } from './object-store.js';

type Json = Record<string, unknown>;

/** An object's own namespace when it names one other than the environment's. */
function foreignNamespace(object: unknown, namespace: string): string | undefined {
  if (!APPLIED.has(String((object as Json).kind))) return undefined;
  const metadata = (object as Json).metadata as Json | undefined;
  const own = metadata?.namespace;
  return typeof own === 'string' && own !== namespace ? own : undefined;
}

/** The image of a Rollout's first container when it carries no digest. */
function unpinnedImage(object: unknown): string | undefined {
  const record = object as Json;
  if (record.kind !== 'Rollout') return undefined;
  const template = ((record.spec as Json | undefined)?.template as Json | undefined)?.spec as Json | undefined;
  const image = ((template?.containers ?? []) as Json[])[0]?.image;
  return typeof image === 'string' && !image.includes('@sha256:') ? image : undefined;
}

export interface SyncState {
  readonly revision: string | null;
  readonly error: string | null;
  readonly syncedAt: string | null;
}

/**
 * The Argo CD part of the embedded cluster: follows each environment's branch, and on a new
 * commit renders the overlay with kustomize and applies the Rollout, AnalysisTemplates, ConfigMaps
 * and Secrets to the store (a changed spec bumps metadata.generation), like automated sync.
 */
export class GitSync {
  readonly state = new Map<string, SyncState>();
  private timer: NodeJS.Timeout | undefined;
  private busy: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly scratch: GitScratch,
    private readonly environments: readonly Pick<FollowedEnvironment, 'name' | 'branch' | 'overlay' | 'namespace'>[],
    private readonly store: ObjectStore,
    private readonly path: string | undefined,
    /** Where each sync exports the branch's tree: inside the state dir, so a killed cluster's leftovers are found. */
    private readonly workDir: string,
    private readonly intervalMs = 300,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.syncAll(), this.intervalMs);
    void this.syncAll();
  }

  /** Stops following; resolves once a sync in flight has finished (it applies nothing more). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.busy;
  }

  async syncAll(): Promise<void> {
    if (this.busy !== undefined || this.stopped) return;
    this.busy = (async () => {
      // One ls-remote for every branch of the app per pass: with several apps in one cluster,
      // one git process per app and pass instead of one per environment.
      let heads: Map<string, string> | Error;
      try {
        heads = await this.scratch.remoteHeads(this.environments.map((env) => env.branch));
      } catch (error) {
        heads = error instanceof Error ? error : new Error(String(error));
      }
      for (const env of this.environments) if (!this.stopped) await this.syncOne(env, heads);
    })().finally(() => {
      this.busy = undefined;
    });
    await this.busy;
  }

  private async syncOne(env: GitSync['environments'][number], heads: Map<string, string> | Error): Promise<void> {
    const previous = this.state.get(env.name);
    if (heads instanceof Error) {
      this.state.set(env.name, {
        revision: previous?.revision ?? null,
        error: heads.message,
        syncedAt: previous?.syncedAt ?? null,
      });
      return;
    }
    const head = heads.get(env.branch);
    if (head === undefined || head === previous?.revision) return;
    const dir = await mkdtemp(join(this.workDir, 'shipway-sync-'));
    try {
      await this.scratch.fetchBranch(env.branch, { depth: 1 });
      await this.scratch.exportTree(head, dir);
      const objects = await renderOverlay(join(dir, env.overlay), this.path);
      const unpinned = objects.map(unpinnedImage).find((image) => image !== undefined);
      const outside = objects.map((object) => foreignNamespace(object, env.namespace)).find((ns) => ns !== undefined);
      if (outside !== undefined)
        // Each app may deploy into its own environments' namespaces only, as an Argo CD
        // AppProject's `destinations` allow (operator-manual/project-specification): in a stack
        // shared by several apps, an overlay must not write into another app's namespace.
        throw new Error(
          `namespace ${outside} is not permitted: environment ${env.name} deploys into ${env.namespace} only`,
        );
      if (this.stopped) return;
      // An overlay that pins no image yet (a new environment branch before its first promotion)
      // would run the base's placeholder name, which no registry has: wait for a pinned one
      // rather than start a revision that can never become ready.
      if (unpinned === undefined) for (const object of objects) this.apply(object, env.namespace);
      this.state.set(env.name, {
        revision: head,
        error:
          unpinned === undefined
            ? null
            : `the Rollout's image ${unpinned} is not pinned by digest yet; waiting for a promotion (shipway promote ${env.name})`,
        syncedAt: new Date().toISOString(),
      });
    } catch (error) {
      // Keep what runs; report the failure and try the same commit again on the next pass.
      this.state.set(env.name, {
        revision: previous?.revision ?? null,
        error: error instanceof Error ? error.message : String(error),
        syncedAt: previous?.syncedAt ?? null,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  private apply(object: unknown, namespace: string): void {
    const record = object as Json;
    if (typeof record.kind !== 'string' || !APPLIED.has(record.kind)) return;
    const metadata = (record.metadata ?? {}) as Json;
    const desired = toKubeObject({ ...record, metadata: { ...metadata, namespace: metadata.namespace ?? namespace } });
    const existing = this.store.get(record.kind, desired.metadata.namespace, desired.metadata.name);
    if (existing === undefined) {
      this.store.put({
        ...desired,
        metadata: { ...desired.metadata, generation: 1, creationTimestamp: new Date().toISOString() },
        ...(desired.kind === 'Rollout' ? { status: {} } : {}),
      });
      return;
    }
    if (JSON.stringify(content(existing)) === JSON.stringify(content(desired))) return;
    const updated: KubeObject = {
      ...existing,
      ...content(desired),
      metadata: {
        ...existing.metadata,
        labels: desired.metadata.labels,
        generation: Number(existing.metadata.generation ?? 1) + 1,
      },
    };
    this.store.put(updated);
  }
}

/**
 * What Argo CD applies: a Rollout and its AnalysisTemplates, and the ConfigMaps and Secrets the
 * pods read their environment from (kustomize's configMapGenerator and secretGenerator render
 * them with hash-suffixed names and rewrite the references, given Argo Rollouts' kustomize
 * configuration). Secrets are stored for the pods only: the API never serves them.
 */
const APPLIED = new Set(['Rollout', 'AnalysisTemplate', 'ConfigMap', 'Secret']);

/** The fields whose change is a new version of the object. */
function content(object: KubeObject): Json {
  if (object.kind !== 'ConfigMap' && object.kind !== 'Secret') return { spec: object.spec };
  const { data, binaryData, stringData, type, immutable } = object;
  return { data, binaryData, stringData, type, immutable };
}
