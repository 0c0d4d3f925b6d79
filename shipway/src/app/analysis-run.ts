import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { loadAll } from 'js-yaml';
import { scrapeText } from '../adapters/metrics/http-metrics.js';
import type { AnalysisRunStatus, Measurement } from '../core/analysis/analysis-run-status.js';
import { InvalidSpecError } from '../core/analysis/invalid-spec.js';
import { capIntervals, planAnalysis, readTemplateSpec } from '../core/analysis/plan-analysis.js';
import { runAnalysis } from '../core/analysis/run-analysis.js';
import { MemorySeriesStore } from '../core/analysis/series-store.js';
import { ExternalError, UsageError } from '../core/errors.js';
import { createMeasure } from '../local/analysis/measure-metric.js';
import { MetricsScraper, type ScrapeTarget } from '../local/analysis/metrics-scraper.js';
import { wallClock } from '../local/analysis/wall-clock.js';
import { environmentTargets, isMetricsUrl, urlTargets } from './analysis-targets.js';
import type { AppContext } from './context.js';

export interface AnalysisRunOptions {
  readonly templateFile: string;
  /** An environment of the embedded cluster, or a /metrics URL. */
  readonly against: string;
  readonly args: readonly { readonly name: string; readonly value: string }[];
  readonly stateDir?: string | undefined;
  readonly configFile?: string | undefined;
  readonly scrapeIntervalMs: number;
  /** The local shortcut: metric intervals, initial delays and error retries at most this long. */
  readonly maxIntervalMs: number;
  readonly signal?: AbortSignal | undefined;
  readonly onMeasurement?: (metric: string, measurement: Measurement) => void;
}

export interface AnalysisRunReport {
  readonly template: string;
  readonly against: string;
  readonly targets: readonly string[];
  readonly status: AnalysisRunStatus;
}

async function readTemplates(context: AppContext, file: string) {
  let text: string;
  try {
    text = await readFile(resolve(context.cwd, file), 'utf8');
  } catch (error) {
    throw new UsageError('USAGE', `cannot read ${file}`, {
      cause: error,
      hint: 'pass the path of an AnalysisTemplate YAML file',
    });
  }
  let documents: unknown[];
  try {
    documents = loadAll(text).filter((doc) => doc !== null && doc !== undefined);
  } catch (error) {
    throw new InvalidSpecError(
      `${file}: not YAML: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
    );
  }
  if (documents.length === 0) throw new InvalidSpecError(`${file}: no AnalysisTemplate in the file`);
  // Several templates in one file are combined as one AnalysisRun, as a Rollout step lists them.
  return documents.map((doc, index) =>
    readTemplateSpec(doc, documents.length === 1 ? file : `${file} (document ${index + 1})`),
  );
}

async function firstTargets(targets: () => Promise<ScrapeTarget[]>, against: string): Promise<ScrapeTarget[]> {
  const found = await targets();
  if (found.length === 0)
    throw new ExternalError('NO_TARGETS', `environment ${against} has no running pods to scrape`, {
      hint: 'promote a release to it first (`shipway promote`), then check `shipway cluster status`',
    });
  if (isMetricsUrl(against)) {
    try {
      await scrapeText(against, 5000);
    } catch (error) {
      throw new ExternalError(
        'METRICS_UNREACHABLE',
        `cannot scrape ${against}: ${error instanceof Error ? error.message : String(error)}`,
        {
          cause: error,
          hint: 'check the URL serves the Prometheus text format',
        },
      );
    }
  }
  return found;
}

/**
 * `shipway analysis run`: one AnalysisRun of a template file, outside any rollout. The series
 * come from scraping the target from the command's start (the store knows nothing older), so
 * it waits for two scrapes before the first measurement; queries then run as in the cluster.
 */
export async function runAnalysisTemplate(
  context: AppContext,
  options: AnalysisRunOptions,
): Promise<AnalysisRunReport> {
  const specs = await readTemplates(context, options.templateFile);
  const planned = planAnalysis(specs, options.args);
  const { metrics, errorRetryMs } = capIntervals(planned, options.maxIntervalMs);
  const targets = isMetricsUrl(options.against)
    ? urlTargets(options.against)
    : await environmentTargets(context, options.against, options.stateDir, options.configFile);
  const found = await firstTargets(targets, options.against);
  const store = new MemorySeriesStore();
  const scraper = new MetricsScraper(store, targets, {
    intervalMs: options.scrapeIntervalMs,
    onError: (target, error) =>
      context.progress(`scrape ${target?.url ?? 'targets'}: ${error instanceof Error ? error.message : String(error)}`),
  });
  context.progress(`scraping ${found.map((target) => target.url).join(', ')} every ${options.scrapeIntervalMs} ms`);
  await scraper.scrapeOnce();
  await wallClock.sleep(options.scrapeIntervalMs, options.signal);
  await scraper.scrapeOnce();
  scraper.start(false);
  const reported = new Map<string, number>();
  try {
    const status = await runAnalysis(metrics, {
      clock: wallClock,
      measure: createMeasure(store, wallClock.now),
      errorRetryMs,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      onUpdate: (update) => {
        // Measurements taken so far: counted ones plus errors (the history keeps only the last ones).
        for (const result of update.metricResults) {
          const taken = result.count + result.error;
          const fresh = taken - (reported.get(result.name) ?? 0);
          for (const measurement of fresh > 0 ? result.measurements.slice(-fresh) : [])
            options.onMeasurement?.(result.name, measurement);
          reported.set(result.name, taken);
        }
      },
    });
    return {
      template: options.templateFile,
      against: options.against,
      targets: found.map((target) => target.url),
      status,
    };
  } finally {
    await scraper.stop();
  }
}
