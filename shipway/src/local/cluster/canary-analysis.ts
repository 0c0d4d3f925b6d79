import type { AnalysisRunStatus } from '../../core/analysis/analysis-run-status.js';
import { COMPLETED } from '../../core/analysis/analysis-run-status.js';
import type { TemplateArg } from '../../core/analysis/analysis-template.js';
import { InvalidSpecError } from '../../core/analysis/invalid-spec.js';
import { capIntervals, planAnalysis, readTemplateSpec } from '../../core/analysis/plan-analysis.js';
import { buildRolloutArgs } from '../../core/analysis/resolve-args.js';
import { runAnalysis } from '../../core/analysis/run-analysis.js';
import { MemorySeriesStore } from '../../core/analysis/series-store.js';
import { createMeasure } from '../analysis/measure-metric.js';
import { MetricsScraper, podScrapeTarget, type ScrapeTarget } from '../analysis/metrics-scraper.js';
import { wallClock } from '../analysis/wall-clock.js';
import { type KubeObject, type ObjectStore, toKubeObject } from './object-store.js';
import type { PodRuntime } from './pod-runtime.js';

type Json = Record<string, unknown>;

export interface CanaryAnalysisOptions {
  /** How often every running pod's /metrics is scraped. */
  readonly scrapeIntervalMs: number;
  /** The local shortcut: metric intervals, initial delays and error retries at most this long. */
  readonly maxIntervalMs: number;
}

// A 250 ms scrape interval gives a counter born at the start of a (1 s apart) analysis the two
// samples rate() needs by the second measurement.
export const DEFAULT_ANALYSIS_OPTIONS: CanaryAnalysisOptions = { scrapeIntervalMs: 250, maxIntervalMs: 1000 };

const HISTORY_LIMIT = 10;

export interface RunHandle {
  readonly key: string;
  readonly name: string;
  status?: AnalysisRunStatus;
  readonly abort: AbortController;
}

/** The rollout analysis spec of a step or of `strategy.canary.analysis` (RolloutAnalysis). */
export interface RolloutAnalysis {
  readonly templates?: readonly { templateName?: string; clusterScope?: boolean }[];
  readonly args?: readonly TemplateArg[];
  readonly dryRun?: readonly { metricName: string }[];
}

/**
 * The embedded cluster's analysis: a scraper over every running pod of every Rollout (labelled
 * as a Kubernetes pod scrape, with the revision's pod template labels), and AnalysisRuns built
 * from the Rollout's AnalysisTemplates, run by core/analysis and recorded as AnalysisRun objects.
 */
export class CanaryAnalyses {
  readonly series = new MemorySeriesStore();
  readonly scraper: MetricsScraper;
  private readonly runs = new Map<string, RunHandle>();

  constructor(
    private readonly store: ObjectStore,
    private readonly pods: PodRuntime,
    private readonly onChange: () => void,
    private readonly options: CanaryAnalysisOptions = DEFAULT_ANALYSIS_OPTIONS,
  ) {
    this.scraper = new MetricsScraper(this.series, () => this.targets(), { intervalMs: options.scrapeIntervalMs });
  }

  private targets(): ScrapeTarget[] {
    return this.pods
      .list()
      .filter(
        (pod) => pod.port > 0 && (pod.state === 'ready' || pod.state === 'unready' || pod.state === 'terminating'),
      )
      .map((pod) => {
        const [namespace = '', name = ''] = pod.spec.owner.split('/');
        const record = this.store.get('ReplicaSet', namespace, `${name}-${pod.spec.revision}`);
        const template = (record?.spec as Json | undefined)?.template as Json | undefined;
        const labels = ((template?.metadata as Json | undefined)?.labels ?? {}) as Record<string, string>;
        return podScrapeTarget({
          namespace,
          pod: pod.name,
          address: `127.0.0.1:${pod.port}`,
          podLabels: { ...labels, 'rollouts-pod-template-hash': pod.spec.revision },
        });
      });
  }

  start(): void {
    this.scraper.start();
  }

  stop(): void {
    for (const run of this.runs.values()) run.abort.abort();
    void this.scraper.stop();
  }

  /** The run for `key`, started on first call; InvalidSpecError when its templates cannot run. */
  ensure(
    key: string,
    name: string,
    object: KubeObject,
    analysis: RolloutAnalysis,
    hashes: { latest: string; stable: string | undefined },
  ): RunHandle {
    const existing = this.runs.get(key);
    if (existing !== undefined) return existing;
    const specs = (analysis.templates ?? []).map((ref) => {
      if (ref.clusterScope === true)
        throw new InvalidSpecError(`ClusterAnalysisTemplate ${ref.templateName} is not supported`);
      const template = this.store.get('AnalysisTemplate', object.metadata.namespace, String(ref.templateName));
      if (template === undefined)
        throw new InvalidSpecError(`AnalysisTemplate ${JSON.stringify(ref.templateName)} not found`);
      return readTemplateSpec(template, `AnalysisTemplate ${ref.templateName}`);
    });
    const args = buildRolloutArgs(analysis.args ?? [], {
      latestHash: hashes.latest,
      stableHash: hashes.stable,
      rollout: object,
    });
    const { metrics, errorRetryMs } = capIntervals(
      planAnalysis(specs, args, analysis.dryRun),
      this.options.maxIntervalMs,
    );
    const handle: RunHandle = { key, name, abort: new AbortController() };
    this.runs.set(key, handle);
    const record = (status: AnalysisRunStatus) => {
      handle.status = status;
      this.store.put(
        toKubeObject({
          apiVersion: 'argoproj.io/v1alpha1',
          kind: 'AnalysisRun',
          metadata: {
            name,
            namespace: object.metadata.namespace,
            labels: { 'rollouts-pod-template-hash': hashes.latest },
            ownerReferences: [
              { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: object.metadata.name, controller: true },
            ],
          },
          spec: { metrics: specs.flatMap((spec) => spec.metrics), args },
          status,
        }),
      );
    };
    this.pruneHistory(object);
    const measure = createMeasure(this.series, wallClock.now);
    void runAnalysis(metrics, {
      clock: wallClock,
      measure,
      signal: handle.abort.signal,
      errorRetryMs,
      onUpdate: record,
    })
      .catch((error: unknown): AnalysisRunStatus => {
        // A bug in a provider must not leave the rollout waiting forever: the run ends in Error.
        const message = error instanceof Error ? error.message : String(error);
        const failed: AnalysisRunStatus = {
          phase: 'Error',
          message,
          metricResults: handle.status?.metricResults ?? [],
        };
        record(failed);
        return failed;
      })
      .then((status) => {
        if (COMPLETED.has(status.phase)) this.onChange();
      });
    return handle;
  }

  /**
   * Keeps the Rollout's last HISTORY_LIMIT finished AnalysisRun objects (Argo keeps 5 successful
   * and 5 unsuccessful by default: spec.analysis.successfulRunHistoryLimit / unsuccessfulRunHistoryLimit).
   */
  private pruneHistory(object: KubeObject): void {
    const finished = this.store
      .list('AnalysisRun', object.metadata.namespace)
      .filter((run) => {
        const owners = (run.metadata.ownerReferences ?? []) as { name?: string }[];
        const phase = (run.status as { phase?: AnalysisRunStatus['phase'] } | undefined)?.phase;
        return (
          owners.some((owner) => owner.name === object.metadata.name) && phase !== undefined && COMPLETED.has(phase)
        );
      })
      .sort((a, b) => Number(a.metadata.resourceVersion ?? 0) - Number(b.metadata.resourceVersion ?? 0));
    for (const run of finished.slice(0, Math.max(0, finished.length - HISTORY_LIMIT)))
      this.store.delete('AnalysisRun', run.metadata.namespace, run.metadata.name);
  }

  /** Terminates and forgets runs whose key `drop` selects (a finished step, an old revision). */
  forget(drop: (key: string) => boolean): void {
    for (const [key, run] of this.runs) {
      if (!drop(key)) continue;
      run.abort.abort();
      this.runs.delete(key);
    }
  }
}
