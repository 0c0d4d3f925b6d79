import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadKubeconfig } from '../adapters/kubernetes/load-kubeconfig.js';
import { RolloutApi } from '../adapters/kubernetes/rollout-api.js';
import { ExternalError } from '../core/errors.js';
import { podScrapeTarget, type ScrapeTarget, urlScrapeTarget } from '../local/analysis/metrics-scraper.js';
import { clusterAccess } from './cluster-access.js';
import type { AppContext } from './context.js';
import { fetchClusterStatus } from './environment-summary.js';
import { requireEnvironment } from './find-environment.js';
import { loadShipwayConfig } from './load-config.js';
import { stackPathsOf } from './shipway-home.js';

const RUNNING = new Set(['ready', 'unready', 'terminating']);

/** `--against http(s)://…`: that /metrics URL; anything else names an environment. */
export function isMetricsUrl(against: string): boolean {
  return /^https?:\/\//i.test(against);
}

/**
 * An environment's running pods in the embedded cluster, as scrape targets labelled like a
 * Kubernetes pod scrape (namespace, pod, the revision's pod template labels, instance, job).
 * Read again on every scrape round, so pods that come and go are followed.
 */
export async function environmentTargets(
  context: AppContext,
  environment: string,
  stateDir: string | undefined,
  configFile: string | undefined,
): Promise<() => Promise<ScrapeTarget[]>> {
  const config = await loadShipwayConfig(context, configFile);
  const env = requireEnvironment(config, environment);
  const hint = 'start it with `shipway cluster up` (or `shipway run`)';
  const dir = stateDir === undefined ? stackPathsOf(context).cluster : resolve(context.cwd, stateDir);
  const kubeconfig = resolve(dir, 'kubeconfig');
  if (!existsSync(kubeconfig)) throw new ExternalError('CLUSTER_DOWN', `no embedded cluster state in ${dir}`, { hint });
  const access = clusterAccess(kubeconfig);
  const api = new RolloutApi(loadKubeconfig({ file: kubeconfig, cwd: context.cwd, env: {} }).config);
  return async () => {
    const states = await fetchClusterStatus(access, hint);
    const state = states.find((candidate) => candidate.app === config.app && candidate.environment === env.name);
    const labels = await api.podTemplateLabels(env.namespace);
    return (state?.pods ?? [])
      .filter((pod) => RUNNING.has(pod.state) && pod.port > 0)
      .map((pod) =>
        podScrapeTarget({
          namespace: env.namespace,
          pod: pod.name,
          address: `127.0.0.1:${pod.port}`,
          podLabels: { ...(labels.get(pod.revision) ?? {}), 'rollouts-pod-template-hash': pod.revision },
        }),
      );
  };
}

export function urlTargets(url: string): () => Promise<ScrapeTarget[]> {
  const target = urlScrapeTarget(url);
  return async () => [target];
}
