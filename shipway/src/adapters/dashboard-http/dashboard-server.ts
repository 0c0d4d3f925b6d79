import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import type { DashboardBackend } from './dashboard-backend.js';
import { registerApiRoutes } from './dashboard-routes.js';
import { hostAllowed, SECURITY_HEADERS, sessionCookie } from './dashboard-security.js';
import { type DashboardServerOptions, login, type ServerContext, serverContext } from './server-context.js';
import { loadAssets } from './static-assets.js';

export type { DashboardServerOptions } from './server-context.js';

/** A largest JSON body: an action or a login is well under 1 KiB. */
export const MAX_BODY_BYTES = 16 * 1024;

export interface DashboardServer {
  readonly url: string;
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

function registerShell(app: FastifyInstance, server: ServerContext): void {
  const assets = loadAssets();
  app.get('/*', async (request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    const file = assets.get(path);
    if (file === undefined) return reply.code(404).send({ code: 'NOT_FOUND', message: 'no such page' });
    const gzip = /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
    reply.header('content-type', file.type).header('etag', file.etag).header('vary', 'accept-encoding');
    reply.header('cache-control', path === '/' ? 'no-cache' : 'public, max-age=300');
    if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
    if (gzip) reply.header('content-encoding', 'gzip');
    return reply.send(gzip ? file.gzip : file.body);
  });
  // The token travels in the URL once: it is exchanged for a cookie and the browser is sent on
  // to the page at once, so it stays out of the page's own URL, history and Referer headers.
  app.get('/auth', async (request, reply) => {
    const token = String((request.query as Record<string, unknown>).token ?? '');
    const session = login(server, request, reply, token);
    if (session === null) return reply;
    return reply.header('set-cookie', sessionCookie(session)).redirect('/', 303);
  });
}

export async function startDashboardServer(
  backend: DashboardBackend,
  options: DashboardServerOptions,
): Promise<DashboardServer> {
  const server = serverContext(backend, options);
  const app = Fastify({ logger: false, bodyLimit: MAX_BODY_BYTES, trustProxy: false });
  app.addHook('onRequest', async (request, reply) => {
    for (const [key, value] of Object.entries(SECURITY_HEADERS)) reply.header(key, value);
    if (!hostAllowed(request.headers.host, { host: options.host, port: bound }, options.allowedHosts)) {
      options.log(`refused ${request.method} ${request.url} from ${request.ip}: Host ${request.headers.host ?? '-'}`);
      return reply.code(403).send({ code: 'HOST_NOT_ALLOWED', message: 'unexpected Host header' });
    }
    if (request.url.startsWith('/api/')) reply.header('cache-control', 'no-store');
  });
  let bound = options.port;
  registerShell(app, server);
  registerApiRoutes(app, server);
  await app.listen({ host: options.host, port: options.port });
  bound = (app.server.address() as AddressInfo).port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${bound}/`,
    app,
    async close() {
      server.streams.closeAll();
      await app.close();
      await backend.close();
    },
  };
}
