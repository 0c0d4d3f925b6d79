import { loadKubeconfig } from '../adapters/kubernetes/load-kubeconfig.js';

/** How to reach the embedded cluster's own endpoints (/shipway/v1/status): its API and its token. */
export interface ClusterAccess {
  readonly api: string;
  readonly token: string | undefined;
}

/**
 * The embedded cluster's API address with the bearer token from the kubeconfig it wrote in its
 * state dir, the one place the token is kept (mode 0600). Throws a ConfigError when the
 * kubeconfig cannot be read.
 */
export function clusterAccess(api: string, kubeconfig: string): ClusterAccess {
  const { config } = loadKubeconfig({ file: kubeconfig, cwd: '/', env: {} });
  return { api, token: config.getCurrentUser()?.token };
}

/** The Authorization header for `access`, when it has a token. */
export function authorization(access: ClusterAccess): Record<string, string> {
  return access.token === undefined ? {} : { authorization: `Bearer ${access.token}` };
}
