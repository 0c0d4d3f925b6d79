import type { Command } from 'commander';
import { ConfigError } from '../../core/errors.js';
import { formatLocation } from '../../core/pipeline/ci-yaml.js';
import { contextFor } from '../context-from-io.js';
import type { CliIo } from '../io.js';

const HELP = `
Plans the CI config for each environment branch in shipway.yaml (as \`shipway plan --ref <branch>\`)
and reports, with file and line:
  config                         every error the planner finds (GitLab would refuse the pipeline)
  wrong-environment              a deploy job writing another environment's branch or overlay
  credentials-in-url             user:token@ in a remote URL
  curl-pipe-shell                curl … | sh
  unpinned-tool                  a download from master/main/latest, npx pkg@latest
  unpinned-image                 :latest or no tag (error); a channel tag such as stable, main,
                                 master, edge, nightly, develop, dev, head, current, lts, rolling
                                 or debug (warning). Other tags, dated ones included, count as
                                 pinned; GitLab's hosted macOS VM images (macos-15-xcode-16) are skipped
  deprecated-only-except         only/except instead of rules (warning)
  deploy-without-environment     a deploy job without environment:
  deploy-without-resource-group  a deploy job without resource_group (warning)
Exit 2 when there is any error; warnings alone exit 0.`;

export function registerLint(program: Command, io: CliIo): void {
  program
    .command('lint')
    .description(
      "check the CI config on every environment branch for errors and the original pipeline's delivery mistakes",
    )
    .option('--file <path>', 'the CI config', '.gitlab-ci.yml')
    .option('--config <file>', 'the shipway config (environments and their branches)', 'shipway.yaml')
    .option(
      '--include-dir <dir>',
      'where includes from outside the repository are kept (docs/plan.md)',
      '.shipway/includes',
    )
    .option(
      '--json',
      'print {"errors", "warnings", "branches", "findings": [{severity, rule, message, file, line, job}]}',
      false,
    )
    .addHelpText('after', HELP)
    .action(async (flags: { file: string; config: string; includeDir: string; json: boolean }) => {
      const { context, output } = contextFor(io, flags.json);
      const { lintCi } = await import('../../app/lint-ci.js');
      const result = await lintCi(context, {
        file: flags.file,
        configFile: flags.config,
        includeDir: flags.includeDir,
      });
      for (const note of result.notes) output.progress(note);
      if (output.json)
        output.data({
          errors: result.errors,
          warnings: result.warnings,
          branches: result.branches,
          findings: result.findings.map(({ location, ...rest }) => ({ ...rest, ...location })),
        });
      else {
        for (const finding of result.findings)
          output.result(
            `${formatLocation(finding.location)}: ${finding.severity} [${finding.rule}] ${finding.message}`,
          );
        const planned = Object.entries(result.branches)
          .map(([branch, jobs]) => `${branch} (${jobs.length} job${jobs.length === 1 ? '' : 's'})`)
          .join(', ');
        output.result(`${flags.file}: ${result.errors} error(s), ${result.warnings} warning(s); planned ${planned}`);
      }
      if (result.errors > 0)
        throw new ConfigError('CI_LINT_FAILED', `${flags.file}: lint found ${result.errors} error(s)`, {
          hint: 'each finding above names its file, line and rule; `shipway lint --help` explains the rules',
        });
    });
}
