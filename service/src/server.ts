// The one entry point that listens: environment → config → listen → graceful shutdown.
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { ConfigError, loadConfig } from './config.js';
import { createServer } from './create-server.js';
import { drainAndClose } from './graceful-shutdown.js';

function readVersion(): string {
  const raw: unknown = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  if (typeof raw === 'object' && raw !== null && 'version' in raw && typeof raw.version === 'string') {
    return raw.version;
  }
  return '0.0.0';
}

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`hello-service: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = pino({ level: config.logLevel, base: { service: 'hello-service' } });
  const server = createServer({
    logger,
    info: { version: readVersion(), revision: config.revision, imageDigest: config.imageDigest },
  });

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    drainAndClose(server, { delayMs: config.shutdownDelayMs, timeoutMs: config.shutdownTimeoutMs, logger })
      .then((outcome) => {
        logger.info({ outcome }, 'stopped');
        process.exit(outcome === 'clean' ? 0 : 1);
      })
      .catch((error: unknown) => {
        logger.fatal({ err: error }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);

  const address = await server.app.listen({ port: config.port, host: config.host });
  logger.info({ address, version: readVersion(), revision: config.revision }, 'listening');
}

main().catch((error: unknown) => {
  process.stderr.write(`hello-service: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
