import type { AnalysisRunStatus } from '../../core/analysis/analysis-run-status.js';
import { COMPLETED } from '../../core/analysis/analysis-run-status.js';
import { InvalidSpecError } from '../../core/analysis/invalid-spec.js';
import { capIntervals, planAnalysis, readTemplateSpec } from '../../core/analysis/plan-analysis.js';
import { buildRolloutArgs } from '../../core/analysis/resolve-args.js';
import { runAnalysis } from '../../core/analysis/run-analysis.js';
import { MemorySeriesStore } from '../../core/analysis/series-store.js';
import { analysisRunSchema } from '../../core/rollout/analysis-run-object.js';
import type { AnalysisRunRequest } from '../../core/rollout/reconcile.js';
import type { Rollout, RolloutAnalysis } from '../../core/rollout/rollout-object.js';
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
  /** `namespace/name` of the Rollout the run belongs to. */
  readonly owner: string;
  status?: AnalysisRunStatus;
  readonly abort: AbortController;
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
  private readonly invalid = new Map<string, { owner: string; message: string }>();

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

  /**
   * Starts the requested run unless it runs already or its stored object has finished (after a
   * restart, a finished run is read back, not run again). Templates that cannot be evaluated
   * faithfully are remembered as invalid (invalidRuns) and never started.
   */
  ensure(
    request: AnalysisRunRequest,
    object: KubeObject,
    rollout: Rollout,
    hashes: { latest: string; stable: string | undefined },
  ): void {
    const key = `${object.metadata.namespace}/${request.name}`;
    if (this.runs.has(key) || this.invalid.has(key)) return;
    const stored = analysisRunSchema.safeParse(this.store.get('AnalysisRun', object.metadata.namespace, request.name));
    const phase = stored.success ? stored.data.status?.phase : undefined;
    if (phase !== undefined && COMPLETED.has(phase)) return;
    try {
      this.launch(key, request.name, object, rollout.metadata.name, request.analysis, hashes);
    } catch (error) {
      if (!(error instanceof InvalidSpecError)) throw error;
      this.invalid.set(key, { owner: `${object.metadata.namespace}/${rollout.metadata.name}`, message: error.message });
    }
  }

  /** The runs of `namespace` that could not start, by name, with the reason. */
  invalidRuns(namespace: string): Map<string, string> {
    return new Map(
      [...this.invalid]
        .filter(([key]) => key.startsWith(`${namespace}/`))
        .map(([key, entry]) => [key.slice(namespace.length + 1), entry.message]),
    );
  }

  /** The run's templates and args, resolved and planned; InvalidSpecError when they cannot run. */
  private plan(analysis: RolloutAnalysis, object: KubeObject, hashes: { latest: string; stable: string | undefined }) {
    if ((analysis.templates ?? []).length === 0) throw new InvalidSpecError('no templates');
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
    const planned = capIntervals(planAnalysis(specs, args, analysis.dryRun), this.options.maxIntervalMs);
    return { specs, args, ...planned };
  }

  private launch(
    key: string,
    name: string,
    object: KubeObject,
    rolloutName: string,
    analysis: RolloutAnalysis,
    hashes: { latest: string; stable: string | undefined },
  ): void {
    const { specs, args, metrics, errorRetryMs } = this.plan(analysis, object, hashes);
    const handle: RunHandle = {
      key,
      name,
      owner: `${object.metadata.namespace}/${rolloutName}`,
      abort: new AbortController(),
    };
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
              { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: rolloutName, controller: true },
            ],
          },
          spec: { metrics: specs.flatMap((spec) => spec.metrics), args },
          status,
        }),
      );
    };
    this.pruneHistory(object.metadata.namespace, rolloutName);
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
  }

  /**
   * Keeps the Rollout's last HISTORY_LIMIT finished AnalysisRun objects (Argo keeps 5 successful
   * and 5 unsuccessful by default: spec.analysis.successfulRunHistoryLimit / unsuccessfulRunHistoryLimit).
   */
  private pruneHistory(namespace: string, rollout: string): void {
    const finished = this.store
      .list('AnalysisRun', namespace)
      .flatMap((object) => {
        const parsed = analysisRunSchema.safeParse(object);
        return parsed.success ? [parsed.data] : [];
      })
      .filter((run) => {
        const phase = run.status?.phase;
        const owned = (run.metadata.ownerReferences ?? []).some((owner) => owner.name === rollout);
        return owned && phase !== undefined && COMPLETED.has(phase);
      })
      .sort((a, b) => Number(a.metadata.resourceVersion ?? 0) - Number(b.metadata.resourceVersion ?? 0));
    for (const run of finished.slice(0, Math.max(0, finished.length - HISTORY_LIMIT)))
      this.store.delete('AnalysisRun', run.metadata.namespace, run.metadata.name);
  }

  /** Terminates and forgets the Rollout's runs (and invalid records) whose name `drop` selects. */
  terminate(namespace: string, rollout: string, drop: (name: string) => boolean): void {
    const owner = `${namespace}/${rollout}`;
    for (const [key, run] of this.runs) {
      if (run.owner !== owner || !drop(run.name)) continue;
      run.abort.abort();
      this.runs.delete(key);
    }
    for (const [key, entry] of this.invalid)
      if (entry.owner === owner && drop(key.slice(namespace.length + 1))) this.invalid.delete(key);
  }
}
