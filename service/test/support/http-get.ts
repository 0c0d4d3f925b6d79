import { type Agent, request } from 'node:http';

export interface HttpResult {
  readonly status: number;
  readonly body: string;
  readonly headers: Record<string, string | string[] | undefined>;
}

/** A GET over node:http, so tests control keep-alive through the agent they pass. */
export function httpGet(url: string, agent?: Agent): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
