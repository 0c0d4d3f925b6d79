import { analysisRunSchema } from '../../core/rollout/analysis-run-object.js';
import { podTemplateHash } from '../../core/rollout/canary-math.js';
import { type AnalysisRunState, type ReconcileResult, reconcile } from '../../core/rollout/reconcile.js';
import { type Rollout, rolloutSchema } from '../../core/rollout/rollout-object.js';
import { CanaryAnalyses, type CanaryAnalysisOptions, DEFAULT_ANALYSIS_OPTIONS } from './canary-analysis.js';
import type { KubeObject, ObjectStore } from './object-store.js';
import type { PodRuntime } from './pod-runtime.js';
import { scalePods } from './replica-set-pods.js';
import { type Owner, recordReplicaSets, replicaSetsOf, revisionStates } from './replica-set-records.js';

/**
 * The Argo Rollouts part of the embedded cluster, as I/O around core/rollout/reconcile.ts: it
 * reads each Rollout, its ReplicaSet records, its pods and its AnalysisRuns, asks reconcile what
 * to do, and does it: ReplicaSet records and their pods, AnalysisRuns started or terminated, the
 * status written back (only over the version it read: a user's patch in between wins).
 */
export class CanaryController {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private again = false;
  private stopped = false;
  private readonly analysis: CanaryAnalyses;

  constructor(
    private readonly store: ObjectStore,
    private readonly pods: PodRuntime,
    private readonly now: () => number = Date.now,
    analysisOptions: CanaryAnalysisOptions = DEFAULT_ANALYSIS_OPTIONS,
  ) {
    this.analysis = new CanaryAnalyses(store, pods, () => this.kick(), analysisOptions);
  }

  start(): void {
    this.analysis.start();
    this.store.on('change', () => this.kick());
    this.timer = setInterval(() => this.kick(), 250);
    this.kick();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.analysis.stop();
  }

  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    // A macrotask, so that timers, sockets and child processes always get their turn.
    void new Promise((resolve) => setImmediate(resolve))
      .then(() => this.reconcileAll())
      .finally(() => {
        this.running = false;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private reconcileAll(): void {
    for (const object of this.store.list('Rollout')) {
      try {
        this.reconcileOne(object);
      } catch {
        // One broken Rollout must not stop the others; its status says what is wrong.
      }
    }
  }

  private reconcileOne(object: KubeObject): void {
    const rollout = rolloutSchema.parse(object);
    const owner: Owner = { namespace: object.metadata.namespace, name: object.metadata.name };
    const states = revisionStates(replicaSetsOf(this.store, owner), this.pods, owner);
    const now = this.now();
    const result = reconcile({
      rollout,
      templateHash: podTemplateHash(rollout.spec.template),
      revisions: states,
      runs: this.runsOf(owner),
      now,
    });
    recordReplicaSets(
      this.store,
      { ...rollout, metadata: { ...rollout.metadata, ...owner } },
      { ...result, now },
      states,
    );
    const starting = scalePods(this.store, this.pods, owner, result.replicas);
    // Look again once new pods have started; with nothing started there is nothing to look at.
    if (starting.length > 0) void Promise.allSettled(starting).then(() => this.kick());
    this.runAnalyses(object, rollout, result);
    this.writeStatus(object, result);
  }

  /** The Rollout's AnalysisRuns as stored, and those whose templates could not be run. */
  private runsOf(owner: Owner): Map<string, AnalysisRunState> {
    const runs = new Map<string, AnalysisRunState>();
    for (const object of this.store.list('AnalysisRun', owner.namespace)) {
      const parsed = analysisRunSchema.safeParse(object);
      if (!parsed.success || !(parsed.data.metadata.ownerReferences ?? []).some((ref) => ref.name === owner.name))
        continue;
      runs.set(parsed.data.metadata.name, { phase: parsed.data.status?.phase, message: parsed.data.status?.message });
    }
    for (const [name, invalid] of this.analysis.invalidRuns(owner.namespace)) runs.set(name, { invalid });
    return runs;
  }

  private runAnalyses(object: KubeObject, rollout: Rollout, result: ReconcileResult): void {
    const wanted = new Set(result.runs.map((request) => request.name));
    this.analysis.terminate(object.metadata.namespace, object.metadata.name, (name) => !wanted.has(name));
    const hashes = { latest: result.status.currentPodHash ?? '', stable: result.status.stableRS };
    for (const request of result.runs) this.analysis.ensure(request, object, rollout, hashes);
  }

  private writeStatus(object: KubeObject, result: ReconcileResult): void {
    const next: unknown = JSON.parse(JSON.stringify(result.status));
    if (JSON.stringify(next) === JSON.stringify(object.status ?? {})) return;
    const current = this.store.get('Rollout', object.metadata.namespace, object.metadata.name);
    // Only write over the version this pass read; a user's patch in between wins and is re-read.
    if (current === undefined || current.metadata.resourceVersion !== object.metadata.resourceVersion) return;
    this.store.put({ ...current, status: next });
  }
}
