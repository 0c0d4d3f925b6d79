import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { ConfigError, UsageError } from '../core/errors.js';
import { isLoopbackHost } from '../core/loopback-host.js';
import { htpasswdAuth, type RegistryAuth } from '../local/registry/registry-auth.js';
import { createRegistryServer } from '../local/registry/registry-server.js';
import type { AppContext } from './context.js';

export interface RegistryServeOptions {
  readonly port: number;
  readonly host: string;
  readonly dir: string;
  readonly htpasswd?: string | undefined;
  /** How long an unfinished upload may sit idle before it is dropped (default 1 h). */
  readonly uploadTtlMs?: number | undefined;
}

export interface RunningRegistry {
  readonly url: string;
  readonly server: FastifyInstance;
}

/**
 * `shipway registry serve`: the embedded OCI registry, on a loopback port unless told otherwise.
 * Anyone who can reach an open registry can push over any tag, so listening beyond this machine
 * requires authentication: an open registry on the network is never a default.
 */
export async function serveRegistry(context: AppContext, options: RegistryServeOptions): Promise<RunningRegistry> {
  if (options.htpasswd === undefined && !isLoopbackHost(options.host)) {
    throw new UsageError(
      'REGISTRY_OPEN_ON_NETWORK',
      `refusing to serve the registry on ${options.host} without authentication`,
      {
        hint: 'add --htpasswd <file> (bcrypt entries, htpasswd -B), or listen on a loopback address such as --host 127.0.0.1',
      },
    );
  }
  let auth: RegistryAuth | undefined;
  if (options.htpasswd !== undefined) {
    try {
      auth = await htpasswdAuth(resolve(context.cwd, options.htpasswd));
    } catch (error) {
      throw new ConfigError(
        'CONFIG_INVALID',
        `cannot use ${options.htpasswd}: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
  }
  const server = await createRegistryServer({
    dir: resolve(context.cwd, options.dir),
    ...(auth === undefined ? {} : { auth }),
    ...(options.uploadTtlMs === undefined ? {} : { uploadTtlMs: options.uploadTtlMs }),
  });
  const address = await server.listen({ port: options.port, host: options.host });
  return { url: address, server };
}
