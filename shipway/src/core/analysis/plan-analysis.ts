import { ERROR_RETRY_INTERVAL_MS } from './analysis-run-state.js';
import { type RunMetric, type TemplateArg, type TemplateSpec, templateSpecSchema } from './analysis-template.js';
import { InvalidSpecError } from './invalid-spec.js';
import { mergeArgs, type ResolvedArg, resolveMetrics } from './resolve-args.js';

/** An AnalysisTemplate document's spec, checked; InvalidSpecError lists what is wrong. */
export function readTemplateSpec(document: unknown, source: string): TemplateSpec {
  const doc = document as { kind?: unknown; spec?: unknown } | null;
  if (
    doc === null ||
    typeof doc !== 'object' ||
    (doc.kind !== 'AnalysisTemplate' && doc.kind !== 'ClusterAnalysisTemplate')
  )
    throw new InvalidSpecError(`${source}: not an AnalysisTemplate (kind ${JSON.stringify(doc?.kind)})`);
  const parsed = templateSpecSchema.safeParse(doc.spec);
  if (!parsed.success)
    throw new InvalidSpecError(
      `${source}: ${parsed.error.issues.map((issue) => `spec.${issue.path.map(String).join('.')}: ${issue.message}`).join('; ')}`,
    );
  if (parsed.data.templates !== undefined)
    throw new InvalidSpecError(`${source}: spec.templates (nested templates) is not supported`);
  return parsed.data;
}

/** helpers.go flattenArgs: the same arg in two templates must agree on a value. */
function flattenArgs(specs: readonly TemplateSpec[]): TemplateArg[] {
  const combined: TemplateArg[] = [];
  for (const arg of specs.flatMap((spec) => spec.args ?? [])) {
    const index = combined.findIndex((prev) => prev.name === arg.name);
    const prev = combined[index];
    if (prev === undefined) combined.push(arg);
    else if (prev.value !== undefined && arg.value !== undefined && prev.value !== arg.value)
      throw new InvalidSpecError(
        `Argument \`${arg.name}\` specified multiple times with different values: '${prev.value}', '${arg.value}'`,
      );
    else if (prev.value === undefined) combined[index] = arg;
  }
  return combined;
}

/**
 * An AnalysisRun's metrics from its templates and args, as NewAnalysisRunFromTemplates
 * (utils/analysis/helpers.go) builds them: metrics concatenated (names unique), args flattened
 * and merged with the given ones, dry-run rules from the caller and the templates.
 */
export function planAnalysis(
  specs: readonly TemplateSpec[],
  args: readonly ResolvedArg[],
  dryRun: readonly { metricName: string }[] = [],
): RunMetric[] {
  const names = new Set<string>();
  for (const metric of specs.flatMap((spec) => spec.metrics)) {
    if (names.has(metric.name)) throw new InvalidSpecError(`two metrics have the same name '${metric.name}'`);
    names.add(metric.name);
  }
  const rules = [...dryRun, ...specs.flatMap((spec) => spec.dryRun ?? [])];
  const flattened: TemplateSpec = {
    metrics: specs.flatMap((spec) => spec.metrics),
    dryRun: rules,
    measurementRetention: specs.flatMap((spec) => spec.measurementRetention ?? []),
  };
  return resolveMetrics(flattened, mergeArgs(args, flattenArgs(specs)));
}

/**
 * The local shortcut: intervals, initial delays and the error retry interval at most `maxMs`, so
 * an analysis that takes minutes against a real Prometheus takes seconds on one machine.
 */
export function capIntervals(
  metrics: readonly RunMetric[],
  maxMs: number,
): { metrics: RunMetric[]; errorRetryMs: number } {
  const cap = (ms: number | undefined) => (ms === undefined ? undefined : Math.min(ms, maxMs));
  return {
    metrics: metrics.map((metric) => ({
      ...metric,
      intervalMs: cap(metric.intervalMs),
      initialDelayMs: cap(metric.initialDelayMs),
    })),
    errorRetryMs: Math.min(ERROR_RETRY_INTERVAL_MS, maxMs),
  };
}
