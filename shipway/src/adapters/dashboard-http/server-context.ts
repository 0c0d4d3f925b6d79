import type { FastifyReply, FastifyRequest } from 'fastify';
import { isLoopbackHost } from '../../core/loopback-host.js';
import type { Actor, DashboardBackend } from './dashboard-backend.js';
import {
  CSRF_HEADER,
  cookieValue,
  LoginLimiter,
  SESSION_COOKIE,
  type Session,
  SessionStore,
  sameOrigin,
  secretsEqual,
} from './dashboard-security.js';
import { EventStreams } from './event-streams.js';

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

export function serverContext(backend: DashboardBackend, options: DashboardServerOptions): ServerContext {
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
