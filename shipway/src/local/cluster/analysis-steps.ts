import { COMPLETED } from '../../core/analysis/analysis-run-status.js';
import { InvalidSpecError } from '../../core/analysis/invalid-spec.js';
import type { Rollout } from '../../core/rollout/rollout-object.js';
import type { CanaryAnalyses, RolloutAnalysis, RunHandle } from './canary-analysis.js';
import type { KubeObject } from './object-store.js';

type Status = NonNullable<Rollout['status']> & Record<string, unknown>;

/** What an analysis outcome does to the Rollout: the controller's hands. */
export interface AnalysisHooks {
  readonly analyses: CanaryAnalyses;
  readonly now: () => number;
  readonly abort: (status: Status, message: string) => void;
}

function startRun(
  hooks: AnalysisHooks,
  object: KubeObject,
  status: Status,
  where: string,
  run: { key: string; name: string; analysis: RolloutAnalysis },
): RunHandle | undefined {
  try {
    if ((run.analysis.templates ?? []).length === 0) throw new InvalidSpecError('no templates');
    return hooks.analyses.ensure(run.key, run.name, object, run.analysis, {
      latest: status.currentPodHash ?? '',
      stable: status.stableRS,
    });
  } catch (error) {
    if (!(error instanceof InvalidSpecError)) throw error;
    status.conditions = [
      { type: 'InvalidSpec', status: 'True', reason: 'InvalidSpec', message: `${where}: ${error.message}` },
    ];
    return undefined;
  }
}

/** An Inconclusive run pauses the rollout (PauseReasonInconclusiveAnalysis) until a promote. */
function pauseInconclusive(hooks: AnalysisHooks, status: Status): void {
  if ((status.pauseConditions ?? []).some((pause) => pause.reason === 'InconclusiveAnalysisRun')) return;
  status.pauseConditions = [
    ...(status.pauseConditions ?? []),
    { reason: 'InconclusiveAnalysisRun', startTime: new Date(hooks.now()).toISOString() },
  ];
  status.controllerPause = true;
}

const withMessage = (prefix: string, message: string | undefined) =>
  message === undefined || message === '' ? prefix : `${prefix}: ${message}`;

/**
 * An analysis step (rollout/analysis.go reconcileStepBasedAnalysisRun, v1.9.1): Successful
 * advances; Inconclusive pauses, and a promote then advances; Failed or Error aborts with
 * "Step-based analysis phase error/failed: <the run's message>".
 */
export function reconcileAnalysisStep(
  hooks: AnalysisHooks,
  object: KubeObject,
  status: Status,
  index: number,
  advance: () => void,
): void {
  const owner = `${object.metadata.namespace}/${object.metadata.name}`;
  const key = `${owner}/${status.currentPodHash}/${index}`;
  const step = ((
    (object.spec as Record<string, unknown>).strategy as { canary?: { steps?: { analysis?: RolloutAnalysis }[] } }
  ).canary?.steps ?? [])[index];
  const name = `${object.metadata.name}-${status.currentPodHash}-${index}`;
  const run = startRun(hooks, object, status, `steps[${index}].analysis`, {
    key,
    name,
    analysis: step?.analysis ?? {},
  });
  const phase = run?.status?.phase;
  if (run === undefined || phase === undefined || !COMPLETED.has(phase)) return;
  if (phase === 'Successful') {
    hooks.analyses.forget((candidate) => candidate === key);
    advance();
  } else if (phase === 'Inconclusive') {
    status.canary = {
      currentStepAnalysisRunStatus: { name, status: 'Inconclusive', message: run.status?.message ?? '' },
    };
    // A promote clears the pause conditions and leaves controllerPause: then the step advances.
    if ((status.pauseConditions ?? []).length === 0 && status.controllerPause !== true)
      pauseInconclusive(hooks, status);
    else if ((status.pauseConditions ?? []).length === 0) {
      hooks.analyses.forget((candidate) => candidate === key);
      status.canary = undefined;
      advance();
    }
  } else {
    hooks.analyses.forget((candidate) => candidate === key);
    const message = withMessage('Step-based analysis phase error/failed', run.status?.message);
    hooks.abort(status, `Rollout aborted update to revision ${status.currentPodHash}: ${message}`);
  }
}

/**
 * Background analysis (rollout/analysis.go reconcileBackgroundAnalysisRun): from startingStep
 * until the update is fully promoted; Inconclusive pauses, Failed or Error aborts with
 * "Background analysis phase error/failed: …"; it ends (terminated) with the update.
 */
export function reconcileBackgroundAnalysis(
  hooks: AnalysisHooks,
  object: KubeObject,
  status: Status,
  active: boolean,
): void {
  const owner = `${object.metadata.namespace}/${object.metadata.name}`;
  const key = `${owner}/${status.currentPodHash}/background`;
  hooks.analyses.forget(
    (candidate) => candidate.startsWith(`${owner}/`) && candidate.endsWith('/background') && candidate !== key,
  );
  const canary = (
    (object.spec as Record<string, unknown>).strategy as {
      canary?: { analysis?: RolloutAnalysis & { startingStep?: number } };
    }
  ).canary;
  const analysis = canary?.analysis;
  const started = (status.currentStepIndex ?? 0) >= (analysis?.startingStep ?? 0);
  if (analysis === undefined || !active || status.abort === true || !started) {
    if (!active || status.abort === true) hooks.analyses.forget((candidate) => candidate === key);
    return;
  }
  const run = startRun(hooks, object, status, 'strategy.canary.analysis', {
    key,
    name: `${object.metadata.name}-${status.currentPodHash}`,
    analysis,
  });
  const phase = run?.status?.phase;
  if (phase === 'Inconclusive') pauseInconclusive(hooks, status);
  if (phase === 'Failed' || phase === 'Error') {
    hooks.analyses.forget((candidate) => candidate === key);
    const message = withMessage('Background analysis phase error/failed', run?.status?.message);
    hooks.abort(status, `Rollout aborted update to revision ${status.currentPodHash}: ${message}`);
  }
}
