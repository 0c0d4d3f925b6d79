import { type IncomingHttpHeaders, request } from 'node:http';

export interface HeldResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface HeldRequest {
  /** Sends the body, then resolves with the response (which the server may have sent before). */
  release(body: Buffer): Promise<HeldResponse>;
  /** Drops the connection (cleanup for a request that is never released). */
  abort(): void;
}

/**
 * An HTTP request whose headers go out now and whose body waits for release(): lets a test put
 * several requests in flight on one resource before any of them sends a byte, so the server sees
 * them truly at once. A server that answers early and closes is fine; the late body is dropped.
 */
export function holdRequest(host: string, method: string, path: string, headers: Record<string, string>): HeldRequest {
  const [hostname, port] = host.split(':');
  const outgoing = request({ hostname, port: Number(port), method, path, headers, agent: false });
  const response = new Promise<HeldResponse>((resolve, reject) => {
    outgoing.on('response', (incoming) => {
      let body = '';
      incoming.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, body }));
      incoming.on('error', reject);
    });
    outgoing.on('error', reject);
  });
  // Once a response is in, a write error (the server closed early) is expected, not a failure.
  void response.catch(() => {});
  outgoing.flushHeaders();
  return {
    release(body) {
      outgoing.end(body);
      return response;
    },
    abort() {
      outgoing.destroy();
    },
  };
}
