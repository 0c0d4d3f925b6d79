import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { ConfigError } from '../core/errors.js';
import { htpasswdAuth, type RegistryAuth } from '../local/registry/registry-auth.js';
import { createRegistryServer } from '../local/registry/registry-server.js';
import type { AppContext } from './context.js';

export interface RegistryServeOptions {
  readonly port: number;
  readonly host: string;
  readonly dir: string;
  readonly htpasswd?: string | undefined;
}

export interface RunningRegistry {
  readonly url: string;
  readonly server: FastifyInstance;
}

/** `shipway registry serve`: the embedded OCI registry on a loopback port. */
export async function serveRegistry(context: AppContext, options: RegistryServeOptions): Promise<RunningRegistry> {
  let auth: RegistryAuth | undefined;
  if (options.htpasswd !== undefined) {
    try {
      auth = await htpasswdAuth(resolve(context.cwd, options.htpasswd));
    } catch (error) {
      throw new ConfigError(
        `cannot use ${options.htpasswd}: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
  }
  const server = await createRegistryServer({
    dir: resolve(context.cwd, options.dir),
    ...(auth === undefined ? {} : { auth }),
  });
  const address = await server.listen({ port: options.port, host: options.host });
  return { url: address, server };
}
