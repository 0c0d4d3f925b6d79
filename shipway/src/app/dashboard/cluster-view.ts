import { setTimeout as sleep } from 'node:timers/promises';
import { loadKubeconfig } from '../../adapters/kubernetes/load-kubeconfig.js';
import { ReleaseObjectsApi, type RevisionPods } from '../../adapters/kubernetes/release-objects-api.js';
import { RolloutApi } from '../../adapters/kubernetes/rollout-api.js';
import type { EnvironmentConfig, ShipwayConfig } from '../../core/config/shipway-config.js';
import { type AnalysisRunView, analysisRunViews } from '../../core/dashboard/analysis-run-view.js';
import { ShipwayError } from '../../core/errors.js';
import type { Rollout } from '../../core/rollout/rollout-object.js';
import { type RolloutView, rolloutView } from '../../core/rollout/rollout-view.js';
import type { AppContext } from '../context.js';

export interface EnvironmentRuntime {
  readonly rollout: RolloutView | null;
  readonly rolloutProblem: string | null;
  readonly analysis: readonly AnalysisRunView[];
  readonly pods: readonly RevisionPods[] | null;
}

interface Clients {
  readonly rollouts: RolloutApi;
  readonly objects: ReleaseObjectsApi;
}

function say(error: unknown): string {
  return error instanceof ShipwayError ? error.message : error instanceof Error ? error.message : String(error);
}

/**
 * One app's environments as the cluster runs them, read through the kubeconfig exactly as
 * `shipway rollout` finds it (--kubeconfig, KUBECONFIG, KUBE_CONFIG, the embedded cluster's,
 * in-cluster), so the board works against the embedded cluster and a real one alike.
 */
export class ClusterView {
  private clients: Clients | string | undefined;

  constructor(
    private readonly context: AppContext,
    private readonly config: ShipwayConfig,
    private readonly kubeconfig: string | undefined,
  ) {}

  /** The API clients, or why there are none (no kubeconfig yet: read again next time). */
  private open(): Clients | string {
    if (typeof this.clients === 'object') return this.clients;
    try {
      const { config } = loadKubeconfig({ file: this.kubeconfig, cwd: this.context.cwd, env: this.context.env });
      this.clients = { rollouts: new RolloutApi(config), objects: new ReleaseObjectsApi(config) };
    } catch (error) {
      this.clients = `no cluster: ${say(error)}`;
    }
    return this.clients;
  }

  /** Every environment's rollout, analysis runs and pods; problems are reported per environment, never thrown. */
  async read(): Promise<Map<string, EnvironmentRuntime>> {
    const clients = this.open();
    const out = new Map<string, EnvironmentRuntime>();
    if (typeof clients === 'string') {
      if (this.clients === clients) this.clients = undefined;
      for (const env of this.config.environments)
        out.set(env.name, { rollout: null, rolloutProblem: clients, analysis: [], pods: null });
      return out;
    }
    const embedded = await clients.objects.embeddedPods();
    await Promise.all(
      this.config.environments.map(async (env) => out.set(env.name, await this.readOne(clients, env, embedded))),
    );
    return out;
  }

  private async readOne(
    clients: Clients,
    env: EnvironmentConfig,
    embedded: Map<string, RevisionPods[]> | null,
  ): Promise<EnvironmentRuntime> {
    const name = env.rollout?.name ?? this.config.app;
    let rollout: RolloutView | null = null;
    let problem: string | null = null;
    try {
      const object = await clients.rollouts.get(env.namespace, name);
      const stable = object.status?.stableRS;
      const image =
        stable === undefined
          ? null
          : ((await clients.rollouts.imageOfRevision(env.namespace, stable).catch(() => undefined)) ?? null);
      rollout = rolloutView(object, image);
    } catch (error) {
      problem = say(error);
    }
    const analysis = await clients.objects.analysisRuns(env.namespace).then(
      (items) => analysisRunViews(items, name),
      () => [],
    );
    const pods =
      embedded !== null
        ? (embedded.get(env.name) ?? [])
        : await clients.objects.podsByReplicaSet(env.namespace, name).catch(() => null);
    return { rollout, rolloutProblem: problem, analysis, pods };
  }

  /**
   * Watches every environment's Rollout (the API's watch, not polling) and calls `onChange` with
   * each new version until `signal` aborts. A broken watch is opened again after a short pause.
   */
  watch(onChange: (environment: string, rollout: Rollout) => void, signal: AbortSignal): void {
    for (const env of this.config.environments) {
      const name = env.rollout?.name ?? this.config.app;
      void (async () => {
        while (!signal.aborted) {
          const clients = this.open();
          if (typeof clients !== 'string') {
            await clients.rollouts
              .watch(env.namespace, name, (rollout) => onChange(env.name, rollout), signal)
              .catch(() => undefined);
          } else this.clients = undefined;
          await sleep(1000, undefined, { signal }).catch(() => undefined);
        }
      })();
    }
  }
}
