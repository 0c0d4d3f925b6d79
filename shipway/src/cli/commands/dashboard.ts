import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { contextFor } from '../context-from-io.js';
import { type CliIo, interruptionOf } from '../io.js';

interface Flags {
  port: string;
  host: string;
  allowActions: boolean;
  allowedHost: string[];
  config: string;
  kubeconfig?: string;
  json: boolean;
}

export function registerDashboard(program: Command, io: CliIo): void {
  program
    .command('dashboard')
    .description('serve the delivery dashboard: environments, promotions, pipelines, DORA metrics, live')
    .option('--port <port>', 'port to listen on (0: any free port)', '4680')
    .option('--host <addr>', 'address to bind; anything but loopback needs the token even to read', '127.0.0.1')
    .option('--allow-actions', 'allow promote, abort, retry and roll back from the page (signed in)', false)
    .option('--allowed-host <name>', 'a host name the Host header may carry besides IP literals', collect, [])
    .option('--config <file>', 'the shipway config', 'shipway.yaml')
    .option('--kubeconfig <file>', 'the cluster to read (default: as `shipway rollout` finds it)')
    .option('--json', 'print {"url", "loginUrl", "allowActions", "loopback"} and keep serving', false)
    .addHelpText(
      'after',
      `
It binds to 127.0.0.1 and is read-only unless started with --allow-actions. Actions need a
session: open the sign-in link printed at start (its token works once), or set
SHIPWAY_DASHBOARD_TOKEN (reusable; also \`Authorization: Bearer\` for scripts). The JSON API
under /api/ is described in docs/dashboard.md. Ctrl-C stops it.`,
    )
    .action(async (flags: Flags) => {
      const signal = interruptionOf(io);
      const { context, output } = contextFor(io, flags.json);
      const port = Number(flags.port);
      if (!/^\d{1,5}$/.test(flags.port) || port > 65535)
        throw new UsageError('USAGE', `--port ${JSON.stringify(flags.port)} is not a port number`);
      const { serveDashboard } = await import('../../app/dashboard/serve-dashboard.js');
      const served = await serveDashboard(context, {
        host: flags.host,
        port,
        allowActions: flags.allowActions,
        allowedHosts: flags.allowedHost,
        configFile: flags.config,
        kubeconfig: flags.kubeconfig,
      });
      if (output.json)
        output.data({
          url: served.url,
          loginUrl: served.loginUrl,
          allowActions: flags.allowActions,
          loopback: served.loopback,
        });
      else {
        output.result(`dashboard ${served.url}${flags.allowActions ? '' : ' (read-only)'}`);
        if (served.loginUrl !== null) output.result(`sign in (works once): ${served.loginUrl}`);
      }
      await new Promise<void>((resolve) => {
        if (signal.aborted) resolve();
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
      await served.server.close();
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
