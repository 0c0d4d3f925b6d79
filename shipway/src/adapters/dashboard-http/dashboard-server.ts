import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { isLoopbackHost } from '../../core/loopback-host.js';
import type { Actor, DashboardBackend } from './dashboard-backend.js';
import { registerApiRoutes } from './dashboard-routes.js';
import {
  CSRF_HEADER,
  cookieValue,
  hostAllowed,
  LoginLimiter,
  SECURITY_HEADERS,
  SESSION_COOKIE,
  type Session,
  SessionStore,
  sameOrigin,
  secretsEqual,
  sessionCookie,
} from './dashboard-security.js';
import { EventStreams } from './event-streams.js';
import { loadAssets } from './static-assets.js';

export interface DashboardServerOptions {
  readonly host: string;
  readonly port: number;
  readonly allowActions: boolean;
  /** The single-use token printed at start; null when `standingToken` is given instead. */
  readonly oneTimeToken: string | null;
  /** SHIPWAY_DASHBOARD_TOKEN: reusable, also as `Authorization: Bearer`. */
  readonly standingToken: string | null;
  /** Host names besides IP literals and localhost that the Host header may carry (--allowed-host). */
  readonly allowedHosts?: readonly string[];
  /** Every refusal and action, one line each (the CLI writes them to stderr). */
  readonly log: (line: string) => void;
}

/** A largest JSON body: an action or a login is well under 1 KiB. */
export const MAX_BODY_BYTES = 16 * 1024;

export interface DashboardServer {
  readonly url: string;
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

/** Per request: who is asking, if anyone has signed in. */
export interface Access {
  readonly session: Session | null;
  readonly bearer: boolean;
}

export interface ServerContext {
  readonly backend: DashboardBackend;
  readonly options: DashboardServerOptions;
  readonly sessions: SessionStore;
  readonly limiter: LoginLimiter;
  readonly streams: EventStreams;
  readonly loopback: boolean;
  access(request: FastifyRequest): Access;
  /** Answers 401 and returns false unless the request may read (always on loopback; else a session or the bearer token). */
  mayRead(request: FastifyRequest, reply: FastifyReply): boolean;
  /** Answers 403 and returns null unless the request may act; its Actor otherwise. */
  mayAct(request: FastifyRequest, reply: FastifyReply): Actor | null;
}

function refuse(reply: FastifyReply, status: number, code: string, message: string): void {
  void reply.code(status).send({ code, message });
}

function serverContext(backend: DashboardBackend, options: DashboardServerOptions): ServerContext {
  const sessions = new SessionStore(options.oneTimeToken, options.standingToken);
  const loopback = isLoopbackHost(options.host);
  const access = (request: FastifyRequest): Access => ({
    session: sessions.find(cookieValue(request.headers.cookie, SESSION_COOKIE)),
    bearer: sessions.bearer(request.headers.authorization),
  });
  return {
    backend,
    options,
    sessions,
    limiter: new LoginLimiter(),
    streams: new EventStreams(),
    loopback,
    access,
    mayRead(request, reply) {
      const { session, bearer } = access(request);
      if (loopback || session !== null || bearer) return true;
      refuse(reply, 401, 'UNAUTHENTICATED', 'this dashboard is not on loopback: sign in with its token first');
      return false;
    },
    mayAct(request, reply) {
      const say = (code: string, message: string) => {
        options.log(`refused ${request.method} ${request.url} from ${request.ip}: ${code}`);
        refuse(reply, 403, code, message);
        return null;
      };
      if (!options.allowActions) return say('READ_ONLY', 'this dashboard is read-only (start it with --allow-actions)');
      const { session, bearer } = access(request);
      const base = { address: request.ip, userAgent: String(request.headers['user-agent'] ?? '').slice(0, 200) };
      if (bearer) return { who: 'token', ...base };
      if (session === null) return say('SESSION_REQUIRED', 'sign in with the token printed at start first');
      const host = String(request.headers.host ?? '');
      if (!sameOrigin(request.headers.origin, request.headers['sec-fetch-site'] as string | undefined, host))
        return say('CROSS_ORIGIN', 'actions are accepted only from the dashboard page itself');
      if (!secretsEqual(String(request.headers[CSRF_HEADER] ?? ''), session.csrf))
        return say('CSRF', `missing or wrong ${CSRF_HEADER} header`);
      return { who: session.label, ...base };
    },
  };
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

/** Exchanges a token for a session, with the rate limit; answers 401/429 itself when it fails. */
export function login(server: ServerContext, request: FastifyRequest, reply: FastifyReply, token: string) {
  if (server.limiter.blocked(request.ip)) {
    void reply.code(429).header('retry-after', '60').send({ code: 'RATE_LIMITED', message: 'too many attempts' });
    return null;
  }
  const session = server.sessions.exchange(token);
  if (session === null) {
    server.limiter.failed(request.ip);
    server.options.log(`refused sign-in from ${request.ip}: wrong or used token`);
    refuse(reply, 401, 'TOKEN_INVALID', 'wrong token, or a one-time token that was already used');
  }
  return session;
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
