import { z } from 'zod';
import { parseCondition } from '../rollout/analysis-expression.js';
import { parseGoDuration } from './go-duration.js';
import { InvalidSpecError } from './invalid-spec.js';
import { parseJsonPath } from './json-path.js';
import { type ParsedQuery, parsePromql } from './parse-promql.js';

/**
 * An AnalysisTemplate's spec (argoproj.io/v1alpha1, pkg/apis/rollouts/v1alpha1/analysis_types.go
 * v1.9.1) as shipway runs it. Metrics are read after `{{args.*}}` substitution, as Argo resolves
 * them (utils/analysis/factory.go ResolveMetricArgs), and validated as ValidateMetric does.
 */
const intOrString = z.union([z.number().int(), z.string()]);

export const templateArgSchema = z.looseObject({
  name: z.string(),
  value: z.string().optional(),
  valueFrom: z.looseObject({}).optional(),
});

export const templateSpecSchema = z.looseObject({
  args: z.array(templateArgSchema).optional(),
  metrics: z.array(z.looseObject({ name: z.string() })).min(1),
  dryRun: z.array(z.looseObject({ metricName: z.string() })).optional(),
  measurementRetention: z.array(z.looseObject({ metricName: z.string(), limit: z.number().int() })).optional(),
  templates: z.unknown().optional(),
});

const metricSchema = z.looseObject({
  name: z.string(),
  interval: z.string().optional(),
  initialDelay: z.string().optional(),
  count: intOrString.optional(),
  failureLimit: intOrString.optional(),
  inconclusiveLimit: intOrString.optional(),
  consecutiveErrorLimit: intOrString.optional(),
  consecutiveSuccessLimit: intOrString.optional(),
  successCondition: z.string().optional(),
  failureCondition: z.string().optional(),
  provider: z.record(z.string(), z.unknown()),
});

const prometheusSchema = z.strictObject({
  address: z.string().optional(),
  query: z.string(),
  timeout: z.number().optional(),
  insecure: z.boolean().optional(),
  headers: z.array(z.looseObject({ key: z.string(), value: z.string() })).optional(),
});

const webSchema = z.strictObject({
  url: z.string(),
  method: z.enum(['GET', 'POST', 'PUT']).optional(),
  headers: z.array(z.strictObject({ key: z.string(), value: z.string() })).optional(),
  body: z.string().optional(),
  jsonBody: z.unknown().optional(),
  jsonPath: z.string().optional(),
  timeoutSeconds: z.number().optional(),
  insecure: z.boolean().optional(),
});

export type WebProvider = z.infer<typeof webSchema>;
export type MetricProvider =
  | { readonly kind: 'prometheus'; readonly query: ParsedQuery; readonly text: string }
  | { readonly kind: 'web'; readonly web: WebProvider };

export type TemplateSpec = z.infer<typeof templateSpecSchema>;
export type TemplateArg = z.infer<typeof templateArgSchema>;

export interface RunMetric {
  readonly name: string;
  readonly intervalMs: number | undefined;
  readonly initialDelayMs: number | undefined;
  /** EffectiveCount: 1 without count and interval, undefined (indefinite) with only an interval. */
  readonly count: number | undefined;
  readonly failureLimit: number;
  readonly inconclusiveLimit: number;
  readonly consecutiveErrorLimit: number;
  readonly consecutiveSuccessLimit: number;
  readonly successCondition: string | undefined;
  readonly failureCondition: string | undefined;
  readonly dryRun: boolean;
  /** Measurements kept in the status (DefaultMeasurementHistoryLimit 10, or measurementRetention). */
  readonly historyLimit: number;
  readonly provider: MetricProvider;
}

function problems(error: z.ZodError, where: string): string {
  return error.issues.map((issue) => `${where}.${issue.path.map(String).join('.')}: ${issue.message}`).join('; ');
}

function intOf(value: number | string | undefined, where: string, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = typeof value === 'number' ? value : /^-?\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isInteger(parsed)) throw new InvalidSpecError(`${where}: ${JSON.stringify(value)} is not an integer`);
  return parsed;
}

function durationOf(value: string | undefined, where: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const ms = parseGoDuration(value);
  if (ms === undefined) throw new InvalidSpecError(`${where}: invalid duration ${JSON.stringify(value)}`);
  return ms;
}

function readProvider(provider: Record<string, unknown>, where: string): MetricProvider {
  const kinds = Object.keys(provider);
  if (kinds.length === 0) throw new InvalidSpecError(`${where}.provider: no provider specified`);
  if (kinds.length > 1) throw new InvalidSpecError(`${where}.provider: multiple providers specified`);
  const [kind = ''] = kinds;
  if (kind === 'prometheus') {
    const parsed = prometheusSchema.safeParse(provider.prometheus);
    if (!parsed.success) throw new InvalidSpecError(problems(parsed.error, `${where}.provider.prometheus`));
    return {
      kind,
      query: parsePromqlAt(parsed.data.query, `${where}.provider.prometheus.query`),
      text: parsed.data.query,
    };
  }
  if (kind === 'web') {
    const parsed = webSchema.safeParse(provider.web);
    if (!parsed.success) throw new InvalidSpecError(problems(parsed.error, `${where}.provider.web`));
    parseJsonPath(parsed.data.jsonPath ?? '');
    return { kind, web: parsed.data };
  }
  throw new InvalidSpecError(
    `${where}.provider.${kind}: the ${kind} provider is not supported by shipway`,
    'shipway runs the prometheus and web providers',
  );
}

function parsePromqlAt(query: string, where: string): ParsedQuery {
  try {
    return parsePromql(query);
  } catch (error) {
    if (error instanceof InvalidSpecError) throw new InvalidSpecError(`${where}: ${error.message}`, error.hint);
    throw error;
  }
}

function checkCondition(condition: string | undefined, where: string): string | undefined {
  if (condition === undefined || condition === '') return undefined;
  try {
    parseCondition(condition);
  } catch (error) {
    throw new InvalidSpecError(`${where}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return condition;
}

/** One metric, its args already substituted, as a RunMetric; InvalidSpecError when it cannot run. */
export function readMetric(raw: unknown, index: number, dryRun: boolean, historyLimit = 10): RunMetric {
  const where = `metrics[${index}]`;
  const parsed = metricSchema.safeParse(raw);
  if (!parsed.success) throw new InvalidSpecError(problems(parsed.error, where));
  const m = parsed.data;
  const intervalMs = durationOf(m.interval, `${where}.interval`);
  const count = intOf(m.count, `${where}.count`, 0);
  const metric: RunMetric = {
    name: m.name,
    intervalMs,
    initialDelayMs: durationOf(m.initialDelay, `${where}.initialDelay`),
    count: count === 0 ? (intervalMs === undefined ? 1 : undefined) : count,
    failureLimit: intOf(m.failureLimit, `${where}.failureLimit`, 0),
    inconclusiveLimit: intOf(m.inconclusiveLimit, `${where}.inconclusiveLimit`, 0),
    // defaults.DefaultConsecutiveErrorLimit = 4 (utils/defaults/defaults.go).
    consecutiveErrorLimit: intOf(m.consecutiveErrorLimit, `${where}.consecutiveErrorLimit`, 4),
    consecutiveSuccessLimit: intOf(m.consecutiveSuccessLimit, `${where}.consecutiveSuccessLimit`, 0),
    successCondition: checkCondition(m.successCondition, `${where}.successCondition`),
    failureCondition: checkCondition(m.failureCondition, `${where}.failureCondition`),
    dryRun,
    historyLimit,
    provider: readProvider(m.provider, where),
  };
  validateMetric(metric, count, where);
  return metric;
}

/** utils/analysis/factory.go ValidateMetric's limits. */
function validateMetric(metric: RunMetric, count: number, where: string): void {
  const fail = (message: string) => {
    throw new InvalidSpecError(`${where}: ${message}`);
  };
  if (metric.consecutiveSuccessLimit < 0) fail('consecutiveSuccessLimit must be >= 0');
  if (metric.failureLimit < -1) fail('failureLimit must be >= 0, or -1 to be disabled');
  if (metric.consecutiveSuccessLimit === 0 && metric.failureLimit === -1)
    fail('failureLimit and consecutiveSuccessLimit cannot both be disabled');
  if (metric.inconclusiveLimit < 0) fail('inconclusiveLimit must be >= 0');
  if (metric.consecutiveErrorLimit < 0) fail('consecutiveErrorLimit must be >= 0');
  if (count > 0 && metric.failureLimit >= 0 && count < metric.failureLimit + metric.consecutiveSuccessLimit)
    fail(
      `count (${count}) must be >= failureLimit + consecutiveSuccessLimit (${metric.failureLimit} + ${metric.consecutiveSuccessLimit}) if both >= 0`,
    );
  if (count > 0 && metric.failureLimit < 0 && count < metric.consecutiveSuccessLimit)
    fail('count must be >= consecutiveSuccessLimit');
  if (count > 0 && count < metric.inconclusiveLimit) fail('count must be >= inconclusiveLimit');
  if (count > 1 && metric.intervalMs === undefined) fail('interval must be specified when count > 1');
}
