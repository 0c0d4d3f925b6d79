import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { ConfigError, ExternalError, RefusedError, ShipwayError, UsageError } from '../../core/errors.js';
import {
  actionBody,
  appParams,
  commitParams,
  envParams,
  jobParams,
  loginBody,
  metricsQuery,
  offsetQuery,
  runParams,
} from './dashboard-backend.js';
import { sessionCookie } from './dashboard-security.js';
import { login, type ServerContext } from './server-context.js';

/** Parses request input with zod; answers 400 with every problem and its path when it does not fit. */
function parse<T extends z.ZodType>(schema: T, value: unknown, reply: FastifyReply): z.infer<T> | undefined {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  void reply.code(400).send({
    code: 'BAD_INPUT',
    message: 'the request does not fit',
    problems: parsed.error.issues.map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`),
  });
  return undefined;
}

/** ShipwayError → HTTP status; anything else is a bug (500, no details). */
function statusOf(error: unknown): number {
  if (error instanceof UsageError) return error.code === 'NOT_FOUND' || error.code === 'ENV_UNKNOWN' ? 404 : 400;
  if (error instanceof ConfigError) return 400;
  if (error instanceof RefusedError) return 409;
  if (error instanceof ExternalError) return 502;
  return 500;
}

function fail(reply: FastifyReply, error: unknown): FastifyReply {
  const status = statusOf(error);
  if (!(error instanceof ShipwayError)) return reply.code(500).send({ code: 'INTERNAL', message: 'internal error' });
  return reply.code(status).send({ code: error.code, message: error.message, hint: error.hint ?? null });
}

type Handler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

/** A read endpoint: authorised by mayRead, errors mapped to their status. */
function read(server: ServerContext, handler: Handler): Handler {
  return async (request, reply) => {
    if (!server.mayRead(request, reply)) return reply;
    try {
      return await handler(request, reply);
    } catch (error) {
      return fail(reply, error);
    }
  };
}

/** Reads params and query together through `schema`, then runs a read endpoint with them. */
function withParams<T extends z.ZodType>(
  server: ServerContext,
  schema: T,
  run: (params: z.infer<T>, request: FastifyRequest) => Promise<unknown>,
): Handler {
  return read(server, async (request, reply) => {
    const params = parse(schema, { ...(request.params as object), ...(request.query as object) }, reply);
    return params === undefined ? reply : run(params, request);
  });
}

export function registerApiRoutes(app: FastifyInstance, server: ServerContext): void {
  registerSession(app, server);
  registerReads(app, server);
  registerActions(app, server);
  registerStreams(app, server);
}

/** Who the caller is, and logging in with a token (which sets the session cookie). */
function registerSession(app: FastifyInstance, server: ServerContext): void {
  app.get('/api/session', async (request) => {
    const { session, bearer } = server.access(request);
    return {
      authenticated: session !== null || bearer,
      readable: server.loopback || session !== null || bearer,
      allowActions: server.options.allowActions,
      csrf: session?.csrf ?? null,
    };
  });
  app.post('/api/session', async (request, reply) => {
    const body = parse(loginBody, request.body, reply);
    if (body === undefined) return reply;
    const session = login(server, request, reply, body.token);
    if (session === null) return reply;
    return reply
      .header('set-cookie', sessionCookie(session))
      .send({ authenticated: true, csrf: session.csrf, allowActions: server.options.allowActions });
  });
}

function registerReads(app: FastifyInstance, server: ServerContext): void {
  const { backend } = server;
  app.get(
    '/api/apps',
    read(server, () => backend.apps()),
  );
  app.get(
    '/api/apps/:app/board',
    withParams(server, appParams, (p) => backend.board(p.app)),
  );
  app.get(
    '/api/apps/:app/timeline',
    withParams(server, appParams, (p) => backend.timeline(p.app)),
  );
  app.get(
    '/api/apps/:app/environments/:env/commits/:commit/diff',
    withParams(server, commitParams, (p) => backend.commitDiff(p.app, p.env, p.commit)),
  );
  app.get(
    '/api/apps/:app/environments/:env/preview',
    withParams(server, envParams, (p) => backend.preview(p.app, p.env)),
  );
  app.get(
    '/api/apps/:app/pipelines',
    withParams(server, appParams, (p) => backend.pipelines(p.app)),
  );
  app.get(
    '/api/apps/:app/pipelines/:run',
    withParams(server, runParams, (p) => backend.pipeline(p.app, p.run)),
  );
  app.get(
    '/api/apps/:app/pipelines/:run/jobs/:job/log',
    withParams(server, jobParams.extend(offsetQuery.shape), (p) => backend.log(p.app, p.run, p.job, p.offset)),
  );
  app.get(
    '/api/apps/:app/metrics',
    withParams(server, appParams.extend(metricsQuery.shape), (p) => backend.metrics(p.app, p.days)),
  );
  app.get(
    '/api/audit',
    read(server, () => backend.audit()),
  );
}

/** Actions on an environment: authorised by mayAct (only with --allow-actions; a bearer token, or a same-origin session). */
function registerActions(app: FastifyInstance, server: ServerContext): void {
  app.post('/api/apps/:app/environments/:env/actions', async (request, reply) => {
    const actor = server.mayAct(request, reply);
    if (actor === null) return reply;
    const params = parse(envParams, request.params, reply);
    const body = params === undefined ? undefined : parse(actionBody, request.body, reply);
    if (params === undefined || body === undefined) return reply;
    try {
      return await server.backend.act(params.app, params.env, body, actor);
    } catch (error) {
      return fail(reply, error);
    }
  });
}

function registerStreams(app: FastifyInstance, server: ServerContext): void {
  const { backend } = server;
  app.get('/api/events', async (request, reply) => {
    if (!server.mayRead(request, reply)) return reply;
    const stream = server.streams.start(request, reply);
    if (stream === null) return reply;
    const unsubscribe = backend.subscribe((event) => stream.send(event.type, event));
    request.raw.on('close', unsubscribe);
    return reply;
  });
  // A job's log as it grows: `log` events with the new text, `end` when the job has finished.
  app.get('/api/apps/:app/pipelines/:run/jobs/:job/log/stream', async (request, reply) => {
    if (!server.mayRead(request, reply)) return reply;
    const params = parse(
      jobParams.extend(offsetQuery.shape),
      { ...(request.params as object), ...(request.query as object) },
      reply,
    );
    if (params === undefined) return reply;
    try {
      await backend.log(params.app, params.run, params.job, 0);
    } catch (error) {
      return fail(reply, error);
    }
    const stream = server.streams.start(request, reply);
    if (stream === null) return reply;
    let offset = params.offset;
    let closed = false;
    request.raw.on('close', () => {
      closed = true;
    });
    void (async () => {
      while (!closed) {
        const chunk = await backend.log(params.app, params.run, params.job, offset).catch(() => undefined);
        if (chunk !== undefined && chunk.next > offset) {
          offset = chunk.next;
          stream.send('log', { text: chunk.text, next: chunk.next });
          continue;
        }
        const record = await backend.pipeline(params.app, params.run).catch(() => undefined);
        const job = record?.jobs.find((entry) => entry.name === params.job);
        if (job === undefined || !['created', 'running', 'pending'].includes(job.status)) {
          stream.send('end', { status: job?.status ?? 'unknown' });
          reply.raw.end();
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
    })();
    return reply;
  });
}
