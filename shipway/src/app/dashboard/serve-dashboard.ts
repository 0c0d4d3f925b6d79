import { resolve } from 'node:path';
import { newSecret } from '../../adapters/dashboard-http/dashboard-security.js';
import { type DashboardServer, startDashboardServer } from '../../adapters/dashboard-http/dashboard-server.js';
import { ExternalError, UsageError } from '../../core/errors.js';
import { isLoopbackHost } from '../../core/loopback-host.js';
import type { AppContext } from '../context.js';
import { openDashboardApp } from './dashboard-app.js';
import { DashboardService } from './dashboard-service.js';

export interface ServeDashboardOptions {
  readonly host: string;
  readonly port: number;
  readonly allowActions: boolean;
  readonly allowedHosts?: readonly string[];
  readonly configFile?: string | undefined;
  readonly kubeconfig?: string | undefined;
}

export interface ServedDashboard {
  readonly server: DashboardServer;
  readonly url: string;
  /** The sign-in link with the one-time token; null when SHIPWAY_DASHBOARD_TOKEN is the credential. */
  readonly loginUrl: string | null;
  readonly loopback: boolean;
}

/** `shipway dashboard`: the apps of this repository, served on `host:port` until the server is closed. */
export async function serveDashboard(context: AppContext, options: ServeDashboardOptions): Promise<ServedDashboard> {
  const standing = context.env.SHIPWAY_DASHBOARD_TOKEN || null;
  if (standing !== null && standing.length < 16)
    throw new UsageError('TOKEN_WEAK', 'SHIPWAY_DASHBOARD_TOKEN is too short to be a secret', {
      hint: 'use 16 or more random characters, e.g. `openssl rand -base64 32`',
    });
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535)
    throw new UsageError('USAGE', `--port ${options.port} is not a port`);
  const oneTime = standing === null ? newSecret() : null;
  const app = await openDashboardApp(context, options);
  const stateDir = resolve(context.cwd, '.shipway', 'dashboard');
  const service = new DashboardService(new Map([[app.config.app, app]]), stateDir, context.progress);
  let server: DashboardServer;
  try {
    server = await startDashboardServer(service, {
      host: options.host,
      port: options.port,
      allowActions: options.allowActions,
      oneTimeToken: oneTime,
      standingToken: standing,
      allowedHosts: options.allowedHosts ?? [],
      log: context.progress,
    });
  } catch (error) {
    await service.close();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL' || code === 'EACCES')
      throw new ExternalError('DASHBOARD_LISTEN', `cannot listen on ${options.host}:${options.port}: ${code}`, {
        cause: error,
        hint:
          code === 'EADDRINUSE'
            ? 'another process uses the port: pass --port <p>, or --port 0 for any free one'
            : undefined,
      });
    throw error;
  }
  return {
    server,
    url: server.url,
    loginUrl: oneTime === null ? null : `${server.url}auth?token=${oneTime}`,
    loopback: isLoopbackHost(options.host),
  };
}
