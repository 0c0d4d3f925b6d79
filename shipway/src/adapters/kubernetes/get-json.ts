import { type RequestOptions, request } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

export interface JsonAnswer {
  readonly status: number;
  /** The parsed body; undefined when it is not JSON (then `text` holds its start). */
  readonly body: unknown;
  readonly text?: string;
}

/**
 * GET of a JSON path on the cluster a kubeconfig names, with the kubeconfig's certificate
 * authority, credentials and proxy (KubeConfig.applyToHTTPSOptions), for endpoints the typed
 * clients have no method for (the embedded cluster's /shipway/v1/status). Rejects when the
 * server cannot be reached or does not answer within `timeoutMs`; an answer that is not JSON (a
 * proxy's error page) resolves with its status and the start of its text.
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
        const status = response.statusCode ?? 0;
        const text = Buffer.concat(chunks).toString();
        try {
          resolve({ status, body: JSON.parse(text) });
        } catch {
          resolve({ status, body: undefined, text: text.slice(0, 200) });
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}
