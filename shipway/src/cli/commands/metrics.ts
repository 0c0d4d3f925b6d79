import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { contextFor } from '../context-from-io.js';
import type { CliIo } from '../io.js';
import { renderTable } from '../render-table.js';

const hours = (seconds: number | null) => (seconds === null ? '-' : `${(seconds / 3600).toFixed(2)} h`);

export function registerMetrics(program: Command, io: CliIo): void {
  program
    .command('metrics')
    .description(
      'DORA metrics from the GitOps history: deployment frequency, lead time, change failure rate, time to restore',
    )
    .option('--days <n>', 'the window: the last n days', '30')
    .option('--until <time>', 'the end of the window, an ISO 8601 time (default: now)')
    .option('--config <file>', 'the shipway config', 'shipway.yaml')
    .option('--json', 'print the figures and every sample as JSON', false)
    .addHelpText('after', '\nHow each figure is computed: docs/dashboard.md, "DORA metrics".')
    .action(async (flags: { days: string; until?: string; config: string; json: boolean }) => {
      const { context, output } = contextFor(io, flags.json);
      const days = Number(flags.days);
      if (!Number.isInteger(days) || days < 1 || days > 366)
        throw new UsageError(
          'USAGE',
          `--days ${JSON.stringify(flags.days)} is not a whole number of days from 1 to 366`,
        );
      const now = flags.until === undefined ? new Date() : new Date(flags.until);
      if (Number.isNaN(now.getTime()))
        throw new UsageError('USAGE', `--until ${JSON.stringify(flags.until)} is not a time`, {
          hint: 'e.g. 2024-03-31T00:00:00Z',
        });
      const { metricsReport } = await import('../../app/dashboard/metrics-report.js');
      const metrics = await metricsReport(context, { configFile: flags.config, days, now });
      if (output.json) return output.data(metrics);
      const rate = metrics.changeFailureRate;
      output.result(`${metrics.app}: last ${days} days (${metrics.window.start} → ${metrics.window.end})`);
      output.result(
        renderTable([
          ['ENVIRONMENT', 'DEPLOYMENTS', 'PER DAY'],
          ...metrics.deploymentFrequency.map((entry) => [
            entry.environment,
            String(entry.deployments),
            entry.perDay.toFixed(2),
          ]),
        ]),
      );
      output.result(
        `lead time for changes (${metrics.production}): median ${hours(metrics.leadTime.medianSeconds)}, mean ${hours(metrics.leadTime.meanSeconds)} over ${metrics.leadTime.samples} releases (${metrics.leadTime.unknown} unknown)`,
      );
      output.result(
        `change failure rate: ${rate.ratio === null ? '-' : `${(rate.ratio * 100).toFixed(1)} %`} (${rate.failed} of ${rate.releases} releases)`,
      );
      output.result(
        `time to restore: median ${hours(metrics.timeToRestore.medianSeconds)} over ${metrics.timeToRestore.samples} failures (${metrics.timeToRestore.unknown} without a recorded Healthy)`,
      );
    });
}
