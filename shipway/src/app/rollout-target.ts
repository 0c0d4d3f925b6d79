import { loadKubeconfig } from '../adapters/kubernetes/load-kubeconfig.js';
import { RolloutApi } from '../adapters/kubernetes/rollout-api.js';
import type { EnvironmentConfig } from '../core/config/shipway-config.js';
import { UsageError } from '../core/errors.js';
import type { Rollout } from '../core/rollout/rollout-object.js';
import { type RolloutView, rolloutView } from '../core/rollout/rollout-view.js';
import type { AppContext } from './context.js';
import { requireEnvironment } from './find-environment.js';
import { loadShipwayConfig } from './load-config.js';

export interface RolloutOptions {
  readonly environment: string;
  readonly kubeconfig?: string | undefined;
  readonly context?: string | undefined;
  readonly configFile?: string | undefined;
}

/** The Rollout an environment names in shipway.yaml, and the API client that reaches it. */
export interface RolloutTarget {
  readonly env: EnvironmentConfig;
  readonly name: string;
  readonly namespace: string;
  readonly api: RolloutApi;
}

export async function openRolloutTarget(context: AppContext, options: RolloutOptions): Promise<RolloutTarget> {
  const config = await loadShipwayConfig(context, options.configFile);
  const env = requireEnvironment(config, options.environment);
  if (env.rollout === undefined) {
    throw new UsageError('ROLLOUT_UNDEFINED', `environment ${env.name} has no rollout in shipway.yaml`, {
      hint: `add environments[].rollout (name, strategy) for ${env.name}`,
    });
  }
  const kubeconfig = loadKubeconfig({
    file: options.kubeconfig,
    context: options.context,
    cwd: context.cwd,
    env: context.env,
  });
  return { env, name: env.rollout.name, namespace: env.namespace, api: new RolloutApi(kubeconfig.config) };
}

/** The Rollout's view, with the image its stable ReplicaSet runs when that can be read. */
export async function rolloutViewOf(target: RolloutTarget, rollout: Rollout): Promise<RolloutView> {
  const stable = rollout.status?.stableRS;
  const image =
    stable === undefined
      ? undefined
      : await target.api.imageOfRevision(target.namespace, stable).catch(() => undefined);
  return rolloutView(rollout, image ?? null);
}
