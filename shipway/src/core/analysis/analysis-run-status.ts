/**
 * An AnalysisRun's status as Argo Rollouts keeps it (pkg/apis/rollouts/v1alpha1/analysis_types.go
 * v1.9.1: AnalysisRunStatus, MetricResult, Measurement), so a dashboard can show the same.
 */
export type AnalysisPhase = 'Pending' | 'Running' | 'Successful' | 'Failed' | 'Error' | 'Inconclusive';

export interface Measurement {
  readonly phase: AnalysisPhase;
  readonly message?: string;
  readonly startedAt: string;
  readonly finishedAt?: string;
  readonly value?: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

export interface MetricResult {
  readonly name: string;
  readonly phase: AnalysisPhase;
  readonly measurements: readonly Measurement[];
  readonly message?: string;
  readonly count: number;
  readonly successful: number;
  readonly failed: number;
  readonly inconclusive: number;
  readonly error: number;
  readonly consecutiveError: number;
  readonly consecutiveSuccess: number;
  readonly dryRun?: boolean;
  readonly metadata?: Readonly<Record<string, string>>;
}

export interface RunSummary {
  readonly count: number;
  readonly successful: number;
  readonly failed: number;
  readonly inconclusive: number;
  readonly error: number;
}

export interface AnalysisRunStatus {
  readonly phase: AnalysisPhase;
  readonly message?: string;
  readonly metricResults: readonly MetricResult[];
  readonly startedAt?: string;
  readonly completedAt?: string;
  readonly runSummary?: RunSummary;
  readonly dryRunSummary?: RunSummary;
}

export const COMPLETED: ReadonlySet<AnalysisPhase> = new Set(['Successful', 'Failed', 'Error', 'Inconclusive']);

/** helpers.go analysisStatusOrder, best to worst. */
const ORDER: readonly AnalysisPhase[] = ['Successful', 'Running', 'Pending', 'Inconclusive', 'Error', 'Failed'];

export function isWorse(current: AnalysisPhase, next: AnalysisPhase): boolean {
  return ORDER.indexOf(next) > ORDER.indexOf(current);
}

export function timeOf(ms: number): string {
  return new Date(ms).toISOString();
}

export function emptyStatus(): AnalysisRunStatus {
  return { phase: 'Pending', metricResults: [] };
}
