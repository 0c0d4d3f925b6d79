import type { FastifyReply, FastifyRequest } from 'fastify';

/** At most this many server-sent event streams at once, and per client address. */
export const MAX_STREAMS = 32;
export const MAX_STREAMS_PER_ADDRESS = 8;
const KEEPALIVE_MS = 15_000;

/**
 * Server-sent event streams (html.spec.whatwg.org, "Server-sent events"), capped in total and
 * per address so that a flood of connections is refused (429) instead of holding the server's
 * memory and sockets. Each stream gets a comment line every 15 s to keep proxies from closing it.
 */
export class EventStreams {
  private readonly open = new Map<FastifyReply, string>();

  count(address?: string): number {
    if (address === undefined) return this.open.size;
    return [...this.open.values()].filter((entry) => entry === address).length;
  }

  /** Starts a stream, or answers 429 and returns null when the caps are reached. */
  start(request: FastifyRequest, reply: FastifyReply): { send(event: string, data: unknown): void } | null {
    const address = request.ip;
    if (this.open.size >= MAX_STREAMS || this.count(address) >= MAX_STREAMS_PER_ADDRESS) {
      void reply
        .code(429)
        .header('retry-after', '5')
        .send({ code: 'TOO_MANY_STREAMS', message: 'too many event streams' });
      return null;
    }
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      ...(reply.getHeaders() as Record<string, string>),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    raw.write(': connected\n\n');
    this.open.set(reply, address);
    const keepalive = setInterval(() => raw.write(': keepalive\n\n'), KEEPALIVE_MS);
    keepalive.unref();
    const stop = () => {
      clearInterval(keepalive);
      this.open.delete(reply);
    };
    raw.on('close', stop);
    request.raw.on('close', stop);
    return {
      send: (event, data) => {
        if (!raw.writableEnded) raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      },
    };
  }

  closeAll(): void {
    for (const reply of this.open.keys()) reply.raw.end();
    this.open.clear();
  }
}
