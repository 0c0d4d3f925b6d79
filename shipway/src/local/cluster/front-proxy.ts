import { Agent, createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Backend {
  readonly port: number;
}

const RETRYABLE = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * One environment's entry point: a stable loopback port that spreads requests round-robin over
 * the pods that are ready right now, so during a basic canary the traffic split follows pod
 * counts. A connection that fails before any response (a pod that just went away) is retried on
 * another pod for idempotent methods, as a Service with a retrying client would.
 */
export class FrontProxy {
  private server: Server | undefined;
  private next = 0;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64 });
  url = '';

  constructor(private readonly backends: () => readonly Backend[]) {}

  async listen(port = 0): Promise<string> {
    this.server = createServer((req, res) => this.forward(req, res, 0));
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(port, '127.0.0.1', resolve);
    });
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async close(): Promise<void> {
    this.agent.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server === undefined ? resolve() : this.server.close(() => resolve())));
  }

  private pick(): Backend | undefined {
    const ready = this.backends();
    if (ready.length === 0) return undefined;
    this.next = (this.next + 1) % ready.length;
    return ready[this.next];
  }

  private forward(req: IncomingMessage, res: ServerResponse, attempt: number): void {
    const backend = this.pick();
    if (backend === undefined) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('no ready pods\n');
      return;
    }
    const upstream = request(
      {
        host: '127.0.0.1',
        port: backend.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent: this.agent,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (attempt < 3 && RETRYABLE.has(req.method ?? '')) {
        this.forward(req, res, attempt + 1);
        return;
      }
      res.writeHead(502, { 'content-type': 'text/plain' }).end('bad gateway\n');
    });
    if (RETRYABLE.has(req.method ?? '')) upstream.end();
    else req.pipe(upstream);
  }
}
