import { type RequestOptions, request } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

export interface JsonAnswer {
  readonly status: number;
  readonly body: unknown;
}

/**
 * GET of a JSON path on the cluster a kubeconfig names, with the kubeconfig's certificate
 * authority, credentials and proxy (KubeConfig.applyToHTTPSOptions), for endpoints the typed
 * clients have no method for (the embedded cluster's /shipway/v1/status). Rejects when the
 * server cannot be reached, does not answer within `timeoutMs` or answers something not JSON.
 */
export async function getJson(config: KubeConfig, path: string, timeoutMs: number): Promise<JsonAnswer> {
  const url = new URL(path, config.getCurrentCluster()?.server);
  const options: RequestOptions = { method: 'GET', timeout: timeoutMs };
  await config.applyToHTTPSOptions(options);
  return new Promise((resolve, reject) => {
    const req = request(url, options, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        try {
          resolve({ status: response.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) });
        } catch (error) {
          reject(error);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}
