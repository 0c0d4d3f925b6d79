import { getJson, type JsonAnswer } from '../adapters/kubernetes/get-json.js';
import { loadKubeconfig } from '../adapters/kubernetes/load-kubeconfig.js';

/** How to reach the embedded cluster's own endpoints (/shipway/v1/status). */
export interface ClusterAccess {
  /** The API's address, for messages. */
  readonly api: string;
  get(path: string, timeoutMs: number): Promise<JsonAnswer>;
}

/**
 * The embedded cluster as the kubeconfig it wrote in its state dir describes it: its address,
 * the certificate to trust and the bearer token, which is kept there and nowhere else (0600).
 * Throws a ConfigError when the kubeconfig cannot be read.
 */
export function clusterAccess(kubeconfig: string): ClusterAccess {
  const { config } = loadKubeconfig({ file: kubeconfig, cwd: '/', env: {} });
  return {
    api: config.getCurrentCluster()?.server ?? '',
    get: (path, timeoutMs) => getJson(config, path, timeoutMs),
  };
}
