import type { Command } from 'commander';
import { contextFor } from '../context-from-io.js';
import type { CliIo } from '../io.js';
import { remoteOption } from '../remote-option.js';
import { renderTable } from '../render-table.js';

export function registerStatus(program: Command, io: CliIo): void {
  remoteOption(program.command('status'))
    .description("show what image each environment's branch pins, and when it was promoted")
    .option('--config <file>', 'the shipway config', 'shipway.yaml')
    .option('--json', 'print {"environments": {"<env>": {branch, image, tag, digest, commit, promotedAt}}}', false)
    .action(async (options: { config: string; json: boolean; remote?: string }) => {
      const { context, output } = contextFor(io, options.json);
      const result = await (await import('../../app/status.js')).status(context, {
        configFile: options.config,
        remote: options.remote,
      });
      if (output.json) return output.data(result);
      const rows = Object.entries(result.environments).map(([name, env]) => [
        name,
        env.branch,
        env.tag ?? '-',
        env.digest === null ? '-' : `${env.digest.slice(0, 19)}…`,
        env.commit?.slice(0, 12) ?? '-',
        env.promotedAt ?? env.problem ?? '-',
      ]);
      output.result(renderTable([['ENV', 'BRANCH', 'TAG', 'DIGEST', 'COMMIT', 'PROMOTED'], ...rows]));
    });
}
