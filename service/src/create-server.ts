import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, LogController } from 'fastify';
import { createMetrics, type ServiceMetrics } from './metrics.js';

export interface ServiceInfo {
  readonly version: string;
  readonly revision: string | null;
  readonly imageDigest: string | null;
}

export interface CreateServerOptions {
  readonly info: ServiceInfo;
  /** A pino logger; omit for a silent server (tests, benchmarks). */
  readonly logger?: FastifyBaseLogger;
  readonly metrics?: ServiceMetrics;
}

export interface HelloServer {
  readonly app: FastifyInstance;
  readonly metrics: ServiceMetrics;
  /** Turns readiness to 503 so that load balancers stop sending new traffic here. */
  startDraining(): void;
  isDraining(): boolean;
}

const UNMATCHED_ROUTE = 'unmatched';

/** Builds the service. It never listens: src/server.ts is the one entry point that does. */
export function createServer(options: CreateServerOptions): HelloServer {
  const metrics = options.metrics ?? createMetrics();
  let draining = false;
  const app = Fastify({
    ...(options.logger === undefined ? { logger: false } : { loggerInstance: options.logger }),
    // One log line per request is too much for the hot path at the default level; errors still log.
    logController: new LogController({ disableRequestLogging: true }),
    // The process keeps serving during its drain window, then close() answers late arrivals with 503.
    return503OnClosing: true,
    // Fastify binds a child logger to every request by default; that allocation is a measurable
    // share of a hello route's cost. Requests log rarely (errors only), so they share the root
    // logger and name their request id themselves.
    childLoggerFactory: (logger) => logger,
  });
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? UNMATCHED_ROUTE;
    metrics.observe(route, request.method, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
  registerRoutes(app, options.info, metrics, () => draining);
  handleFailures(app);

  return {
    app,
    metrics,
    startDraining() {
      draining = true;
    },
    isDraining: () => draining,
  };
}

function registerRoutes(
  app: FastifyInstance,
  info: ServiceInfo,
  metrics: ServiceMetrics,
  draining: () => boolean,
): void {
  app.get('/', (_request, reply) => {
    reply.type('text/plain; charset=utf-8').send('Hello world');
  });
  app.get('/healthz', (_request, reply) => {
    reply.send({ status: 'ok' });
  });
  app.get('/readyz', (_request, reply) => {
    if (draining()) {
      reply.code(503).send({ status: 'draining' });
      return;
    }
    reply.send({ status: 'ready' });
  });
  app.get('/version', (_request, reply) => {
    reply.send(info);
  });
  app.get('/metrics', async (_request, reply) => {
    const body = await metrics.registry.metrics();
    reply.type(metrics.registry.contentType).send(body);
  });
}

/** Unknown routes answer 404 naming the request; errors never leak an internal message. */
function handleFailures(app: FastifyInstance): void {
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({
      error: 'Not Found',
      message: `no route for ${request.method} ${request.url.split('?')[0] ?? ''}`,
      statusCode: 404,
    });
  });
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode !== undefined && error.statusCode >= 400 ? error.statusCode : 500;
    if (status >= 500) {
      request.log.error({ err: error, reqId: request.id, url: request.url }, 'request failed');
      // Never echo an internal error's message or stack to the client.
      reply.code(status).send({ error: 'Internal Server Error', statusCode: status });
      return;
    }
    reply.code(status).send({ error: error.code ?? 'Bad Request', message: error.message, statusCode: status });
  });
}
