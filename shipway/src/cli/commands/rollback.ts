import type { Command } from 'commander';
import { contextFor } from '../context-from-io.js';
import type { CliIo } from '../io.js';
import { remoteOption } from '../remote-option.js';

export function registerRollback(program: Command, io: CliIo): void {
  remoteOption(program.command('rollback'))
    .description('pin the image an environment had before its last promotion, as a new commit')
    .argument('<env>', 'the environment to roll back')
    .option('--to <commit|digest>', 'restore the image from this commit of the branch, or this digest')
    .option('--dry-run', 'print what would be restored; change nothing', false)
    .option('--config <file>', 'the shipway config', 'shipway.yaml')
    .option('--json', 'print the result as JSON', false)
    .addHelpText(
      'after',
      '\nExample:\n  $ shipway rollback prod            # after a canary abort, so Git and the cluster agree\n',
    )
    .action(
      async (
        env: string,
        options: { to?: string; dryRun: boolean; config: string; json: boolean; remote?: string },
      ) => {
        const { context, output } = contextFor(io, options.json);
        const result = await (await import('../../app/rollback.js')).rollback(context, {
          environment: env,
          to: options.to,
          dryRun: options.dryRun,
          configFile: options.config,
          remote: options.remote,
        });
        if (output.json) return output.data(result);
        const verb = { 'rolled-back': 'rolled back', unchanged: 'already at', planned: 'would roll back' }[
          result.status
        ];
        output.result(
          `${verb} ${result.environment}: ${result.from ?? '(none)'} -> ${result.image} (image of ${result.restoredFrom.slice(0, 12)})`,
        );
      },
    );
}
