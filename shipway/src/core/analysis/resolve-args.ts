import { type RunMetric, readMetric, type TemplateArg, type TemplateSpec } from './analysis-template.js';
import { InvalidSpecError } from './invalid-spec.js';

export interface ResolvedArg {
  readonly name: string;
  readonly value: string | undefined;
}

/** What a Rollout's analysis args may read (utils/analysis/factory.go BuildArgumentsForRolloutAnalysisRun). */
export interface RolloutArgContext {
  readonly latestHash: string;
  readonly stableHash: string | undefined;
  readonly rollout: Readonly<Record<string, unknown>>;
}

type Json = Record<string, unknown>;

/** k8s fieldpath.ExtractFieldPathAsString for metadata.*, else Argo's extractValueFromRollout walk. */
function fieldValue(rollout: Json, path: string): string {
  const metadata = (rollout.metadata ?? {}) as Json;
  const keyed = /^metadata\.(labels|annotations)\['([^']*)'\]$/.exec(path);
  if (keyed !== null) return String(((metadata[keyed[1] ?? ''] ?? {}) as Json)[keyed[2] ?? ''] ?? '');
  if (path === 'metadata.labels' || path === 'metadata.annotations') {
    const map = (metadata[path.slice(9)] ?? {}) as Json;
    return Object.keys(map)
      .sort()
      .map((key) => `${key}="${String(map[key])}"`)
      .join('\n');
  }
  if (path.startsWith('metadata.')) {
    const name = path.slice(9);
    if (!['name', 'namespace', 'uid'].includes(name))
      throw new InvalidSpecError(`fieldRef ${path}: unsupported fieldPath`);
    return String(metadata[name] ?? '');
  }
  let node: unknown = rollout;
  for (const section of path.split(/[.[\]]+/).filter((part) => part !== '')) {
    if (Array.isArray(node)) node = node[Number(section)];
    else if (node !== null && typeof node === 'object') node = (node as Json)[section];
    else node = undefined;
  }
  if (node === undefined || node === null || typeof node === 'object')
    throw new InvalidSpecError(`fieldRef ${path}: invalid path in rollout, or not a primitive value`);
  return String(node);
}

/** A Rollout step's / background analysis' args with valueFrom resolved against the Rollout. */
export function buildRolloutArgs(args: readonly TemplateArg[], context: RolloutArgContext): ResolvedArg[] {
  return args.map((arg) => {
    const from = arg.valueFrom as { podTemplateHashValue?: string; fieldRef?: { fieldPath?: string } } | undefined;
    if (from === undefined) return { name: arg.name, value: arg.value ?? '' };
    if (from.podTemplateHashValue === 'Latest') return { name: arg.name, value: context.latestHash };
    if (from.podTemplateHashValue === 'Stable') return { name: arg.name, value: context.stableHash ?? '' };
    if (from.fieldRef?.fieldPath !== undefined)
      return { name: arg.name, value: fieldValue(context.rollout, from.fieldRef.fieldPath) };
    throw new InvalidSpecError(`args.${arg.name}.valueFrom: ${JSON.stringify(from)} is not supported`);
  });
}

/** utils/analysis/helpers.go MergeArgs: the template's args, given values override; all must have one. */
export function mergeArgs(incoming: readonly ResolvedArg[], template: readonly TemplateArg[]): ResolvedArg[] {
  const merged: ResolvedArg[] = template.map((arg) => {
    if (arg.valueFrom !== undefined && arg.value === undefined && !incoming.some((given) => given.name === arg.name))
      throw new InvalidSpecError(
        `args.${arg.name}: valueFrom ${Object.keys(arg.valueFrom).join(', ')} is not supported in a template`,
      );
    return { name: arg.name, value: arg.value };
  });
  for (const given of incoming) {
    const index = merged.findIndex((arg) => arg.name === given.name);
    if (index >= 0 && given.value !== undefined) merged[index] = given;
  }
  const missing = merged.find((arg) => arg.value === undefined);
  if (missing !== undefined) throw new InvalidSpecError(`args.${missing.name} was not resolved`, 'give it a value');
  return merged;
}

/**
 * template.go ResolveQuotedArgs over the metric's JSON: each `{{args.name}}` (spaces trimmed)
 * becomes the value JSON-escaped; an unknown tag fails the run.
 */
export function substituteArgs(json: string, args: readonly ResolvedArg[]): string {
  const values = new Map(args.map((arg) => [`args.${arg.name}`, JSON.stringify(arg.value ?? '').slice(1, -1)]));
  return json.replace(/\{\{(.*?)\}\}/g, (_, tag: string) => {
    const value = values.get(tag.trim());
    if (value === undefined) throw new InvalidSpecError(`failed to resolve {{${tag}}}`);
    return value;
  });
}

/**
 * The run's metrics: args substituted, dryRun and measurementRetention rules applied (helpers.go
 * GetDryRunMetrics, GetMeasurementRetentionMetrics), validated.
 */
export function resolveMetrics(spec: TemplateSpec, args: readonly ResolvedArg[]): RunMetric[] {
  const names = spec.metrics.map((metric) => metric.name);
  const dry = new Set<string>();
  for (const [index, rule] of (spec.dryRun ?? []).entries()) {
    // Go's regexp.MatchString: unanchored.
    const matched = names.filter((name) => new RegExp(rule.metricName).test(name));
    if (matched.length === 0) throw new InvalidSpecError(`dryRun[${index}]: Rule didn't match any metric name(s)`);
    for (const name of matched) dry.add(name);
  }
  const limits = new Map<string, number>();
  for (const [index, rule] of (spec.measurementRetention ?? []).entries()) {
    const matched = names.filter((name) => new RegExp(rule.metricName).test(name));
    if (matched.length === 0)
      throw new InvalidSpecError(`measurementRetention[${index}]: Rule didn't match any metric name(s)`);
    for (const name of matched) if (rule.limit > 0) limits.set(name, rule.limit);
  }
  const seen = new Set<string>();
  return spec.metrics.map((raw, index) => {
    if (seen.has(raw.name)) throw new InvalidSpecError(`metrics[${index}]: duplicate name '${raw.name}'`);
    seen.add(raw.name);
    const metric = JSON.parse(substituteArgs(JSON.stringify(raw), args));
    return readMetric(metric, index, dry.has(raw.name), limits.get(raw.name) ?? 10);
  });
}
