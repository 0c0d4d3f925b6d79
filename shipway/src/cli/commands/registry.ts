import type { Command } from 'commander';
import { parseDuration } from '../../core/duration.js';
import { UsageError } from '../../core/errors.js';
import { contextFor } from '../context-from-io.js';
import { type CliIo, interruptionOf } from '../io.js';

function port(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65_535)
    throw new UsageError('USAGE', `--port must be 0-65535, got ${value}`);
  return parsed;
}

function uploadTtl(value: string): number {
  const ms = parseDuration(value);
  if (ms <= 0)
    throw new UsageError('USAGE', `--upload-ttl must be longer than 0, got ${value}`, {
      hint: 'e.g. --upload-ttl 30m',
    });
  return ms;
}

interface RegistryServeFlags {
  port: number;
  host: string;
  dir: string;
  htpasswd?: string;
  uploadTtl?: number;
  json: boolean;
}

export function registerRegistry(program: Command, io: CliIo): void {
  const registry = program.command('registry').description('the embedded OCI registry');
  registry
    .command('serve')
    .description('serve an OCI distribution registry from a directory (the local default registry)')
    .option('--port <port>', 'port to listen on (0 picks a free one)', port, 5000)
    .option('--host <address>', 'address to listen on; other than loopback it needs --htpasswd', '127.0.0.1')
    .option('--dir <path>', 'where blobs, manifests and tags are kept', '.shipway/registry')
    .option('--htpasswd <file>', 'require Basic auth against an htpasswd file of bcrypt entries (htpasswd -B)')
    .option('--upload-ttl <duration>', 'drop unfinished uploads idle this long (default 1h)', uploadTtl)
    .option('--json', 'print {"url"} as JSON once listening', false)
    .addHelpText(
      'after',
      '\nExample:\n  $ shipway registry serve --port 5000 --dir .shipway/registry\n  $ skopeo copy --dest-tls-verify=false oci:./image docker://127.0.0.1:5000/hello:v1\n',
    )
    .action(async (options: RegistryServeFlags) => {
      const signal = interruptionOf(io);
      const { context, output } = contextFor(io, options.json);
      const running = await (await import('../../app/registry-serve.js')).serveRegistry(context, {
        ...options,
        uploadTtlMs: options.uploadTtl,
      });
      if (output.json) output.data({ url: running.url });
      else output.result(`registry listening on ${running.url} (storage ${options.dir}); Ctrl-C stops it`);
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      await running.server.close();
    });
}
