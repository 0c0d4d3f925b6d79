import { canarySplit, pauseSeconds, podTemplateHash } from '../../core/rollout/canary-math.js';
import { type Rollout, rolloutSchema } from '../../core/rollout/rollout-object.js';
import { calculatePhase, desiredWeight } from '../../core/rollout/rollout-phase.js';
import { type AnalysisHooks, reconcileAnalysisStep, reconcileBackgroundAnalysis } from './analysis-steps.js';
import { CanaryAnalyses, type CanaryAnalysisOptions, DEFAULT_ANALYSIS_OPTIONS } from './canary-analysis.js';
import { type KubeObject, type ObjectStore, toKubeObject } from './object-store.js';
import type { Pod, PodRuntime, PodSpec, Probe } from './pod-runtime.js';

type Json = Record<string, unknown>;
type Status = NonNullable<Rollout['status']> & Json;

const STEP_KINDS = new Set(['setWeight', 'pause', 'analysis']);

function probeOf(value: unknown): Probe | undefined {
  const probe = value as { httpGet?: { path?: string }; periodSeconds?: number; failureThreshold?: number } | undefined;
  if (probe?.httpGet?.path === undefined) return undefined;
  return {
    path: probe.httpGet.path,
    periodMs: (probe.periodSeconds ?? 10) * 1000,
    failureThreshold: probe.failureThreshold ?? 3,
  };
}

/** What the embedded cluster cannot run faithfully; reported as InvalidSpec, never ignored. */
export function unsupported(rollout: Rollout, raw: Json): string | undefined {
  const template = ((raw.spec as Json | undefined)?.template as Json | undefined)?.spec as Json | undefined;
  if (template?.volumes !== undefined)
    return 'spec.template.spec.volumes: volumes are not supported by the embedded cluster';
  const containers = (template?.containers ?? []) as Json[];
  if (containers.length !== 1)
    return `spec.template.spec.containers: the embedded cluster runs exactly one container, got ${containers.length}`;
  for (const entry of (containers[0]?.env ?? []) as Json[]) {
    if (entry.valueFrom !== undefined)
      return `spec.template.spec.containers[0].env.${String(entry.name)}: valueFrom is not supported by the embedded cluster`;
  }
  if (rollout.spec.strategy?.blueGreen !== undefined)
    return 'spec.strategy.blueGreen: the embedded cluster runs canary rollouts only';
  const steps = (rollout.spec.strategy?.canary?.steps ?? []) as Json[];
  for (const [index, step] of steps.entries()) {
    const kind = Object.keys(step).find((key) => !STEP_KINDS.has(key));
    if (kind !== undefined)
      return `spec.strategy.canary.steps[${index}].${kind}: step not supported by the embedded cluster`;
  }
  return undefined;
}

/**
 * The Argo Rollouts part of the embedded cluster, for basic canaries: a new pod template starts
 * the steps; setWeight scales canary and stable pods; `pause: {}` waits for a promote; a timed
 * pause resumes by itself; an analysis step passes, aborts or pauses as inconclusive; abort sends
 * everything back to stable; a Git revert to the stable template goes straight to Healthy. Status
 * fields move as the real controller moves them, so `shipway rollout` behaves the same here.
 */
export class CanaryController {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private again = false;
  private stopped = false;
  private readonly revisionStarted = new Map<string, number>();
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

  private async reconcileAll(): Promise<void> {
    for (const object of this.store.list('Rollout')) {
      try {
        await this.reconcile(object);
      } catch {
        // One broken Rollout must not stop the others; its status says what is wrong.
      }
    }
  }

  private async reconcile(object: KubeObject): Promise<void> {
    const rollout = rolloutSchema.parse(object);
    const owner = `${object.metadata.namespace}/${object.metadata.name}`;
    const before = JSON.stringify(object.status ?? {});
    const status: Status = { ...(structuredClone(object.status ?? {}) as Status) };
    const invalid = unsupported(rollout, object);
    if (invalid !== undefined) {
      status.conditions = [{ type: 'InvalidSpec', status: 'True', reason: 'InvalidSpec', message: invalid }];
      this.finish(object, rollout, status, before);
      return;
    }
    const template = (object.spec as Json).template;
    const hash = podTemplateHash(template);
    if (status.currentPodHash !== hash) this.newRevision(object, status, hash);
    const steps = rollout.spec.strategy?.canary?.steps ?? [];
    const replicas = rollout.spec.replicas ?? 1;
    const view: Rollout = { ...rollout, status };
    if (status.abort !== true && status.abortedAt !== undefined) {
      // A retry (status.abort back to false) runs the steps again from the start.
      status.abortedAt = undefined;
      status.currentStepIndex = 0;
      status.conditions = (status.conditions ?? []).filter((condition) => condition.reason !== 'RolloutAborted');
    }
    const inFlight = status.currentPodHash !== status.stableRS;
    if (inFlight && status.abort === true && status.abortedAt === undefined) {
      // A user's abort (status.abort patched to true) is Degraded / RolloutAborted, as in Argo Rollouts.
      this.abort(status, `Rollout aborted update to revision ${status.currentPodHash}`);
    }
    const done = (status.currentStepIndex ?? 0) >= steps.length || status.promoteFull === true;
    const canaryWeight = !inFlight ? 0 : status.abort === true ? 0 : done ? 100 : desiredWeight(view);
    const split = canarySplit(replicas, canaryWeight);
    const desired = new Map<string, number>();
    if (status.stableRS !== undefined) desired.set(status.stableRS, inFlight ? split.stable : replicas);
    if (inFlight && status.currentPodHash !== undefined) desired.set(status.currentPodHash, split.canary);
    await this.scale(owner, object, desired, replicas);
    const pods = this.pods.list(owner).filter((pod) => pod.state !== 'terminating');
    const ready = (revision: string | undefined) =>
      pods.filter((pod) => pod.spec.revision === revision && pod.state === 'ready').length;
    if (inFlight && status.abort !== true && rollout.spec.paused !== true) {
      if (done) {
        if (ready(status.currentPodHash) >= replicas) {
          status.stableRS = status.currentPodHash;
          status.currentStepIndex = steps.length;
          status.promoteFull = undefined;
          status.pauseConditions = undefined;
          status.controllerPause = undefined;
        }
      } else {
        this.step(
          object,
          rollout,
          status,
          ready(status.currentPodHash) >= split.canary && ready(status.stableRS) >= split.stable,
        );
      }
    }
    const updating = status.currentPodHash !== status.stableRS && status.abort !== true;
    reconcileBackgroundAnalysis(this.hooks(), object, status, updating);
    this.deadline(
      rollout,
      status,
      owner,
      ready(status.currentPodHash) >= (desired.get(status.currentPodHash ?? '') ?? 0),
    );
    status.replicas = pods.length;
    status.updatedReplicas = pods.filter((pod) => pod.spec.revision === status.currentPodHash).length;
    status.readyReplicas = pods.filter((pod) => pod.state === 'ready').length;
    status.availableReplicas = status.readyReplicas;
    this.finish(object, rollout, status, before);
  }

  private newRevision(object: KubeObject, status: Status, hash: string): void {
    const revision = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: `${object.metadata.name}-${hash}`,
        namespace: object.metadata.namespace,
        labels: { 'rollouts-pod-template-hash': hash },
      },
      spec: { template: (object.spec as Json).template },
    };
    if (this.store.get('ReplicaSet', object.metadata.namespace, revision.metadata.name) === undefined)
      this.store.put(toKubeObject(revision));
    const owner = `${object.metadata.namespace}/${object.metadata.name}`;
    this.revisionStarted.set(owner, this.now());
    // Runs of earlier revisions are terminated, as Argo cancels AnalysisRuns it no longer needs.
    this.analysis.forget((key) => key.startsWith(`${owner}/`) && !key.startsWith(`${owner}/${hash}/`));
    const steps = ((((object.spec as Json).strategy as Json | undefined)?.canary as Json | undefined)?.steps ??
      []) as unknown[];
    status.currentPodHash = hash;
    status.pauseConditions = undefined;
    status.controllerPause = undefined;
    status.promoteFull = undefined;
    status.abort = undefined;
    status.abortedAt = undefined;
    status.canary = undefined;
    status.conditions = [];
    // The first revision, and a return to the stable one (a Git revert), need no steps.
    if (status.stableRS === undefined || status.stableRS === hash) {
      status.stableRS = hash;
      status.currentStepIndex = steps.length;
    } else {
      status.currentStepIndex = 0;
    }
  }

  private step(object: KubeObject, rollout: Rollout, status: Status, scaled: boolean): void {
    const index = status.currentStepIndex ?? 0;
    const step = rollout.spec.strategy?.canary?.steps?.[index];
    if (step === undefined) return;
    const advance = () => {
      status.currentStepIndex = index + 1;
      status.pauseConditions = undefined;
      status.controllerPause = undefined;
    };
    if (step.setWeight !== undefined) {
      if (scaled) advance();
      return;
    }
    if (step.pause !== undefined) {
      const conditions = status.pauseConditions ?? [];
      if (status.controllerPause === true && conditions.length === 0) {
        advance(); // promoted
        return;
      }
      if (conditions.length === 0) {
        status.pauseConditions = [{ reason: 'CanaryPauseStep', startTime: new Date(this.now()).toISOString() }];
        status.controllerPause = true;
        return;
      }
      const seconds = pauseSeconds(step.pause.duration);
      const started = Date.parse(conditions[0]?.startTime ?? '');
      if (seconds !== undefined && this.now() >= started + seconds * 1000) advance();
      return;
    }
    if (step.analysis !== undefined) reconcileAnalysisStep(this.hooks(), object, status, index, advance);
  }

  private hooks(): AnalysisHooks {
    return { analyses: this.analysis, now: this.now, abort: (status, message) => this.abort(status, message) };
  }

  private abort(status: Status, message: string): void {
    status.abort = true;
    status.abortedAt = new Date(this.now()).toISOString();
    status.pauseConditions = undefined;
    status.controllerPause = undefined;
    status.conditions = [{ type: 'Progressing', status: 'False', reason: 'RolloutAborted', message }];
  }

  /** progressDeadlineSeconds: a revision whose pods do not become ready in time is Degraded (and aborted if asked). */
  private deadline(rollout: Rollout, status: Status, owner: string, ready: boolean): void {
    const seconds = (rollout.spec as Json).progressDeadlineSeconds;
    const started = this.revisionStarted.get(owner);
    if (
      typeof seconds !== 'number' ||
      started === undefined ||
      ready ||
      status.abort === true ||
      (status.pauseConditions ?? []).length > 0
    )
      return;
    if (this.now() - started < seconds * 1000) return;
    const message = `ReplicaSet "${rollout.metadata.name}-${status.currentPodHash}" has timed out progressing.`;
    if ((rollout.spec as Json).progressDeadlineAbort === true && status.currentPodHash !== status.stableRS)
      this.abort(status, message);
    status.conditions = [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message }];
  }

  private finish(object: KubeObject, rollout: Rollout, status: Status, before: string): void {
    status.observedGeneration = String(object.metadata.generation ?? 1);
    const { phase, message } = calculatePhase({
      ...rollout,
      status: { ...status, phase: undefined, message: undefined },
    });
    status.phase = phase;
    status.message = message;
    const cleaned = JSON.parse(JSON.stringify(status)) as Json;
    if (JSON.stringify(cleaned) === before) return;
    const current = this.store.get('Rollout', object.metadata.namespace, object.metadata.name);
    // Only write over the version this pass read; a user's patch in between wins and is re-read.
    if (current === undefined || current.metadata.resourceVersion !== object.metadata.resourceVersion) return;
    this.store.put({ ...current, status: cleaned });
  }

  private async scale(
    owner: string,
    object: KubeObject,
    desired: Map<string, number>,
    replicas: number,
  ): Promise<void> {
    const live = this.pods.list(owner).filter((pod) => pod.state !== 'terminating');
    const starting: Promise<Pod>[] = [];
    for (const [revision, count] of desired) {
      const have = live.filter((pod) => pod.spec.revision === revision).length;
      for (let i = have; i < count; i += 1) {
        const spec = this.podSpec(owner, object, revision);
        if (spec !== undefined) starting.push(this.pods.start(spec));
      }
    }
    // Look again once new pods have started; with nothing started there is nothing to look at
    // (kicking anyway made every pass schedule the next one: a busy loop).
    if (starting.length > 0) void Promise.allSettled(starting).then(() => this.kick());
    // Scale down without dropping below the ready capacity the Rollout asks for (maxUnavailable 0).
    let readyCount = live.filter((pod) => pod.state === 'ready').length;
    const excess = [...live].sort((a, b) => Number(a.state === 'ready') - Number(b.state === 'ready'));
    const kept = new Map<string, number>();
    for (const pod of excess) {
      const wanted = desired.get(pod.spec.revision) ?? 0;
      const keptOfRevision = kept.get(pod.spec.revision) ?? 0;
      const surplus =
        live.filter((other) => other.spec.revision === pod.spec.revision).length - keptOfRevision > wanted;
      if (!surplus) {
        kept.set(pod.spec.revision, keptOfRevision + 1);
        continue;
      }
      if (pod.state === 'ready' && readyCount - 1 < replicas) {
        kept.set(pod.spec.revision, keptOfRevision + 1);
        continue;
      }
      if (pod.state === 'ready') readyCount -= 1;
      void this.pods.stop(pod);
    }
  }

  private podSpec(owner: string, object: KubeObject, revision: string): PodSpec | undefined {
    const record = this.store.get('ReplicaSet', object.metadata.namespace, `${object.metadata.name}-${revision}`);
    const template = ((record?.spec as Json | undefined)?.template as Json | undefined)?.spec as Json | undefined;
    const container = ((template?.containers ?? []) as Json[])[0];
    if (container === undefined || typeof container.image !== 'string') return undefined;
    const env = Object.fromEntries(
      ((container.env ?? []) as Json[]).map((entry) => [String(entry.name), String(entry.value ?? '')]),
    );
    return {
      owner,
      revision,
      image: container.image,
      env,
      readiness: probeOf(container.readinessProbe),
      liveness: probeOf(container.livenessProbe),
      terminationGraceMs: Number(template?.terminationGracePeriodSeconds ?? 30) * 1000,
    };
  }
}
