import type { Command } from 'commander';
import { ConfigError } from '../../core/errors.js';
import { contextFor } from '../context-from-io.js';
import type { CliIo } from '../io.js';

export function registerValidate(program: Command, io: CliIo): void {
  program
    .command('validate')
    .description('render overlays with kustomize and validate every object strictly (unknown fields are errors)')
    .argument('[env]', 'one environment; all of them when omitted')
    .option('--config <file>', 'the shipway config', 'shipway.yaml')
    .option('--json', 'print the report as JSON', false)
    .addHelpText(
      'after',
      '\nCore kinds are checked against the Kubernetes API models of @kubernetes/client-node; Rollout and\nAnalysisTemplate against the Argo Rollouts CRDs in shipway/schemas. Needs kubectl or kustomize on PATH.',
    )
    .action(async (env: string | undefined, options: { config: string; json: boolean }) => {
      const { context, output } = contextFor(io, options.json);
      // Loaded on use: the Kubernetes models take most of a second to import, which every other
      // command would otherwise pay at start-up.
      const { validate } = await import('../../app/validate.js');
      const result = await validate(context, { environment: env, configFile: options.config });
      if (output.json) output.data(result);
      else {
        for (const report of result.environments) {
          output.result(`${report.environment} (${report.overlay})`);
          for (const object of report.objects) {
            output.result(`  ${object.problems.length === 0 ? 'ok     ' : 'INVALID'} ${object.kind}/${object.name}`);
            for (const problem of object.problems)
              output.result(`          ${problem.path || '(object)'}: ${problem.message}`);
          }
        }
      }
      if (!result.valid) {
        const count = result.environments
          .flatMap((report) => report.objects)
          .reduce((sum, object) => sum + object.problems.length, 0);
        throw new ConfigError('MANIFEST_INVALID', `validation failed: ${count} problem${count === 1 ? '' : 's'}`);
      }
    });
}
