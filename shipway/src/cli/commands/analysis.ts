import type { Command } from 'commander';
import type { AnalysisRunReport } from '../../app/analysis-run.js';
import type { Measurement } from '../../core/analysis/analysis-run-status.js';
import { parseDuration } from '../../core/duration.js';
import { ExternalError, RefusedError, UsageError } from '../../core/errors.js';
import { contextFor } from '../context-from-io.js';
import { type CliIo, interruptionOf } from '../io.js';
import { renderTable } from '../render-table.js';

interface Flags {
  against: string;
  arg: string[];
  stateDir?: string;
  config: string;
  scrapeInterval: string;
  maxInterval: string;
  json: boolean;
}

const EXAMPLE = `
Runs the template once, as an AnalysisRun outside any rollout: its Prometheus queries are
evaluated by shipway over series scraped from the target since the command started (the
template's prometheus address is not contacted), its web metrics are requested as written, and
count, interval, initialDelay, failureLimit, inconclusiveLimit, consecutiveErrorLimit and dryRun
decide the verdict exactly as Argo Rollouts does. Intervals and initial delays are cut to
--max-interval (default 1s), as in the embedded cluster.

Examples:
  # the prod canary's template against prod in the embedded cluster, for one revision's pods
  shipway analysis run deployment/base/analysis-template.yaml --against prod --arg canary-hash=5d8f9c7b4

  # any service's /metrics page
  shipway analysis run template.yaml --against http://127.0.0.1:8080/metrics --arg hash=abc --json

Exit codes: 0 Successful; 4 Failed or Inconclusive; 3 the target cannot be reached or the run
ended in Error (measurements kept failing); 2 the template or the arguments are invalid (a
PromQL construct or provider shipway does not evaluate is named with its position).`;

function parseArgs(pairs: readonly string[]): { name: string; value: string }[] {
  return pairs.map((pair) => {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError('ARG_INVALID', `--arg must be name=value, got ${JSON.stringify(pair)}`);
    return { name: pair.slice(0, at), value: pair.slice(at + 1) };
  });
}

function line(metric: string, index: number, measurement: Measurement): string {
  const message = measurement.message === undefined ? '' : `  ${measurement.message}`;
  return `${metric} #${index} ${measurement.phase} ${measurement.value ?? '-'} at ${measurement.startedAt}${message}`;
}

function render(report: AnalysisRunReport): string {
  const rows = report.status.metricResults.flatMap((result) =>
    result.measurements.map((m, i) => [result.name, String(i + 1), m.phase, m.value ?? '-', m.message ?? '']),
  );
  const verdict = `AnalysisRun ${report.status.phase}${report.status.message === undefined ? '' : `: ${report.status.message}`}`;
  return [renderTable([['METRIC', '#', 'PHASE', 'VALUE', 'MESSAGE'], ...rows]), verdict].join('\n');
}

function verdict(report: AnalysisRunReport): void {
  const { phase, message } = report.status;
  const what = `analysis of ${report.template} against ${report.against} ended ${phase}${message === undefined ? '' : `: ${message}`}`;
  if (phase === 'Failed' || phase === 'Inconclusive') throw new RefusedError('ANALYSIS_FAILED', what);
  if (phase === 'Error')
    throw new ExternalError('ANALYSIS_ERROR', what, { hint: 'the measurements kept failing; see their messages' });
}

export function registerAnalysis(program: Command, io: CliIo): void {
  const analysis = program.command('analysis').description('run Argo Rollouts AnalysisTemplates');
  analysis
    .command('run')
    .description('run an AnalysisTemplate once against an environment of the embedded cluster or a /metrics URL')
    .argument('<template-file>', 'a YAML file with one or more AnalysisTemplates (combined as one run)')
    .requiredOption(
      '--against <env|url>',
      'an environment in shipway.yaml (its running pods are scraped), or a /metrics URL',
    )
    .option(
      '--arg <name=value>',
      'a template argument (repeatable)',
      (value: string, all: string[]) => [...all, value],
      [],
    )
    .option(
      '--state-dir <dir>',
      'the embedded cluster state dir (for --against <env>; default: the local stack, $SHIPWAY_HOME/cluster)',
    )
    .option('--config <file>', 'the shipway config (for --against <env>)', 'shipway.yaml')
    .option('--scrape-interval <duration>', 'how often the target is scraped', '250ms')
    .option('--max-interval <duration>', 'cut metric intervals and initial delays to this (the local shortcut)', '1s')
    .option('--json', 'print the AnalysisRun (every measurement, the verdict) as JSON', false)
    .addHelpText('after', EXAMPLE)
    .action(async (templateFile: string, flags: Flags) => {
      const { context, output } = contextFor(io, flags.json);
      const { runAnalysisTemplate } = await import('../../app/analysis-run.js');
      const counts = new Map<string, number>();
      const report = await runAnalysisTemplate(context, {
        templateFile,
        against: flags.against,
        args: parseArgs(flags.arg),
        stateDir: flags.stateDir,
        configFile: flags.config,
        scrapeIntervalMs: parseDuration(flags.scrapeInterval),
        maxIntervalMs: parseDuration(flags.maxInterval),
        signal: interruptionOf(io),
        onMeasurement: (metric, measurement) => {
          counts.set(metric, (counts.get(metric) ?? 0) + 1);
          output.progress(line(metric, counts.get(metric) ?? 0, measurement));
        },
      });
      if (output.json) output.data(report);
      else output.result(render(report));
      verdict(report);
    });
}
