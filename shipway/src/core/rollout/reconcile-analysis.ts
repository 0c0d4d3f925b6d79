import type { AnalysisPhase } from '../analysis/analysis-run-status.js';
import type { Rollout, RolloutAnalysis, RolloutStatus } from './rollout-object.js';

/** What the controller knows of an AnalysisRun: the stored object's phase, or why it cannot run. */
export interface AnalysisRunState {
  readonly phase?: AnalysisPhase | undefined;
  readonly message?: string | undefined;
  /** The run's templates cannot be evaluated faithfully (InvalidSpecError): never started. */
  readonly invalid?: string | undefined;
}

/** An AnalysisRun that should be running now; the controller starts it if it is not. */
export interface AnalysisRunRequest {
  readonly name: string;
  /** Where the Rollout asks for it, for InvalidSpec messages: `steps[4].analysis`. */
  readonly where: string;
  readonly analysis: RolloutAnalysis;
  readonly stepIndex?: number;
}

export interface AnalysisContext {
  readonly rollout: Rollout;
  readonly status: RolloutStatus;
  readonly runs: ReadonlyMap<string, AnalysisRunState>;
  readonly now: number;
  readonly requests: AnalysisRunRequest[];
  readonly abort: (message: string) => void;
}

const COMPLETED = new Set(['Successful', 'Failed', 'Error', 'Inconclusive']);
const STEP = 'currentStepAnalysisRunStatus';
const BACKGROUND = 'currentBackgroundAnalysisRunStatus';

/**
 * A name for a new run: `base`, or `base.N` when a run of that name exists already (a retried
 * step), as analysisutil's CreateWithCollisionCounter names it.
 */
function freshName(base: string, runs: ReadonlyMap<string, AnalysisRunState>): string {
  let name = base;
  for (let counter = 1; runs.has(name); counter += 1) name = `${base}.${counter}`;
  return name;
}

/** PauseContext.AddPauseCondition(PauseReasonInconclusiveAnalysis), once. */
function pauseInconclusive(context: AnalysisContext): void {
  const { status } = context;
  if ((status.pauseConditions ?? []).some((pause) => pause.reason === 'InconclusiveAnalysisRun')) return;
  const startTime = new Date(context.now).toISOString();
  status.pauseConditions = [...(status.pauseConditions ?? []), { reason: 'InconclusiveAnalysisRun', startTime }];
  status.controllerPause = true;
}

/** needsNewAnalysisRun (rollout/analysis.go): none yet, a retry, or a promoted Inconclusive run. */
function needsNewRun(current: AnalysisRunState | undefined, status: RolloutStatus): boolean {
  if (current === undefined) return true;
  const canaryPause = (status.pauseConditions ?? []).some((pause) => pause.reason === 'CanaryPauseStep');
  if (status.controllerPause === true && !canaryPause) return current.phase === 'Inconclusive';
  return status.abortedAt !== undefined;
}

/** The run's outcome, as reconcileStepBasedAnalysisRun / reconcileBackgroundAnalysisRun act on it. */
function assess(context: AnalysisContext, run: AnalysisRunState, kind: string): void {
  if (run.phase === 'Inconclusive') pauseInconclusive(context);
  if (run.phase === 'Failed' || run.phase === 'Error') {
    const detail = run.message === undefined || run.message === '' ? '' : `: ${run.message}`;
    context.abort(`${kind} analysis phase error/failed${detail}`);
  }
}

function track(
  context: AnalysisContext,
  field: typeof STEP | typeof BACKGROUND,
  request: AnalysisRunRequest,
): AnalysisRunState | undefined {
  const { status } = context;
  const known = status.canary?.[field]?.name;
  const reuse = known !== undefined && (known === request.name || known.startsWith(`${request.name}.`));
  let name = reuse ? known : request.name;
  let run = context.runs.get(name);
  if (!reuse || needsNewRun(run, status)) {
    name = freshName(request.name, context.runs);
    run = undefined;
  }
  context.requests.push({ ...request, name });
  status.canary = { ...status.canary, [field]: { name, status: run?.phase ?? 'Pending', message: run?.message ?? '' } };
  return run;
}

/**
 * reconcileStepBasedAnalysisRun (rollout/analysis.go, v1.9.1) for the current step: while the
 * Rollout is paused or aborted the run is left as it is; a new run is requested when there is
 * none (or after a retry, or a promote of an Inconclusive one); Inconclusive pauses, Failed or
 * Error aborts with "Step-based analysis phase error/failed: <the run's message>". Returns
 * whether the step is complete (completedCurrentCanaryStep: the run is Successful).
 */
export function reconcileStepAnalysis(context: AnalysisContext, index: number): boolean {
  const { rollout, status } = context;
  const analysis = rollout.spec.strategy?.canary?.steps?.[index]?.analysis;
  if (analysis === undefined) return false;
  const base = `${rollout.metadata.name}-${status.currentPodHash}-${index}`;
  const paused = (status.pauseConditions ?? []).length > 0 || status.abort === true;
  const run = track(context, STEP, { name: base, where: `steps[${index}].analysis`, analysis, stepIndex: index });
  if (run === undefined || paused) return false;
  assess(context, run, 'Step-based');
  return run.phase === 'Successful';
}

/**
 * reconcileBackgroundAnalysisRun: from `startingStep` until the update is fully promoted;
 * Inconclusive pauses, Failed or Error aborts with "Background analysis phase error/failed: …".
 */
export function reconcileBackgroundAnalysis(context: AnalysisContext): void {
  const { rollout, status } = context;
  const analysis = rollout.spec.strategy?.canary?.analysis;
  if (analysis === undefined || (analysis.templates ?? []).length === 0) return;
  if ((status.currentStepIndex ?? 0) < (analysis.startingStep ?? 0)) return;
  const paused = (status.pauseConditions ?? []).some((pause) => pause.reason === 'InconclusiveAnalysisRun');
  const base = `${rollout.metadata.name}-${status.currentPodHash}`;
  const run = track(context, BACKGROUND, { name: base, where: 'strategy.canary.analysis', analysis });
  if (run !== undefined && !paused && run.phase !== undefined && COMPLETED.has(run.phase))
    assess(context, run, 'Background');
}

/** The first request whose templates cannot run, as an InvalidSpec message. */
export function invalidRun(
  requests: readonly AnalysisRunRequest[],
  runs: ReadonlyMap<string, AnalysisRunState>,
): string | undefined {
  for (const request of requests) {
    const invalid = runs.get(request.name)?.invalid;
    if (invalid !== undefined) return `${request.where}: ${invalid}`;
  }
  return undefined;
}
