// The JSON shapes of the dashboard API the page reads (docs/dashboard.md).
export interface DigestView {
  full: string;
  short: string;
  release: number;
}
export interface Measurement {
  phase: string;
  value: string | null;
  startedAt: string | null;
  finishedAt: string | null;
}
export interface Metric {
  name: string;
  phase: string;
  message: string | null;
  successful: number;
  failed: number;
  inconclusive: number;
  error: number;
  measurements: Measurement[];
}
export interface AnalysisRun {
  name: string;
  phase: string;
  message: string | null;
  revision: string | null;
  startedAt: string | null;
  metrics: Metric[];
}
export interface Card {
  app: string;
  environment: string;
  gate: 'auto' | 'manual';
  from: string | null;
  image: { repository: string | null; tag: string | null; digest: DigestView | null };
  commit: {
    sha: string;
    short: string;
    at: string | null;
    pipeline: string | null;
    from: string | null;
    kind: string | null;
  } | null;
  rollout: {
    phase: string;
    message: string;
    step: { current: number; total: number } | null;
    canaryWeight: number;
    stableWeight: number;
    aborted: boolean;
    canary: { revision: string | null; digest: DigestView | null };
    stable: { revision: string | null; digest: DigestView | null };
  } | null;
  analysis: AnalysisRun[];
  pods: { revision: string; ready: number; total: number; role: string }[] | null;
  problems: string[];
}
export interface Board {
  app: string;
  cards: Card[];
}
export interface ReleaseEvent {
  environment: string;
  kind: 'promote' | 'rollback' | 'abort';
  commit: string;
  at: string;
  subject: string;
  image: string | null;
  tag: string | null;
  digest: string | null;
  previousDigest: string | null;
  sourceEnvironment: string | null;
  pipeline: string | null;
}
export interface Job {
  name: string;
  stage: string;
  status: string;
  startedAt: string | null;
  finishedAt: string | null;
  ms: number | null;
  /** The earlier pipeline whose result `shipway run` reused (SHIPWAY_REUSE: tree). */
  reused?: { pipeline: number; ref: string };
}
export interface Pipeline {
  run: string;
  id: number;
  ref: string;
  sha: string;
  status: string;
  startedAt: string;
  finishedAt: string | null;
  ms: number | null;
  jobs: Job[];
}
export interface AppInfo {
  name: string;
  environments: { name: string; gate: string; from: string | null }[];
}
