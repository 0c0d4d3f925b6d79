import type { FastifyBaseLogger } from 'fastify';
import type { HelloServer } from './create-server.js';

export interface ShutdownOptions {
  readonly delayMs: number;
  readonly timeoutMs: number;
  readonly logger?: FastifyBaseLogger;
}

export type ShutdownOutcome = 'clean' | 'forced';

/**
 * Drains the server the way Kubernetes expects a pod to (see "Termination of Pods" in the
 * Kubernetes docs): readiness fails at once, the server keeps serving for `delayMs` while
 * endpoints are removed, then it stops accepting, closes idle keep-alive connections, and waits
 * for in-flight requests. If that takes longer than `timeoutMs` in total, the remaining
 * connections are destroyed and the outcome is 'forced'.
 */
export async function drainAndClose(server: HelloServer, options: ShutdownOptions): Promise<ShutdownOutcome> {
  server.startDraining();
  options.logger?.info({ delayMs: options.delayMs, timeoutMs: options.timeoutMs }, 'draining');
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<ShutdownOutcome>((resolve) => {
    timer = setTimeout(() => resolve('forced'), options.timeoutMs);
    timer.unref();
  });
  const close = (async (): Promise<ShutdownOutcome> => {
    await sleep(options.delayMs);
    await server.app.close();
    return 'clean';
  })();
  const outcome = await Promise.race([close, deadline]);
  clearTimeout(timer);
  if (outcome === 'forced') {
    options.logger?.error({ timeoutMs: options.timeoutMs }, 'shutdown timed out; closing remaining connections');
    server.app.server.closeAllConnections();
  }
  return outcome;
}

function sleep(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}
