import { ExpressionError } from './ci-expression.js';
import { type CiMap, type CiValue, isCiMap, type SourceLocation } from './ci-yaml.js';
import type { CiConfig, CiJob, CiProblem } from './load-ci-config.js';
import { firstMatchingRule, onlyExceptKeeps, type RuleContext } from './match-rules.js';
import { expandVariables, type PipelineTrigger, predefinedVariables } from './predefined-variables.js';

export const JOB_WHEN = ['on_success', 'manual', 'always', 'on_failure', 'delayed', 'never'] as const;
export type JobWhen = (typeof JOB_WHEN)[number];

export interface PlannedJob {
  readonly name: string;
  readonly stage: string;
  readonly when: JobWhen;
  readonly allowFailure: boolean;
  /** null without `needs:`; else the names of the jobs it needs (in this pipeline). */
  readonly needs: readonly string[] | null;
  readonly dependencies: readonly string[] | null;
  readonly startIn: string | null;
  /** The job's variables (predefined, global, job, the matching rule's, outside ones), expanded; computed on demand. */
  readonly variables: () => ReadonlyMap<string, string>;
  readonly definition: CiMap;
  readonly location: SourceLocation;
}

export interface PipelinePlan {
  readonly created: boolean;
  /** Why no pipeline is created (workflow rules, no jobs, errors). */
  readonly reason: string | null;
  readonly stages: readonly { readonly name: string; readonly jobs: readonly PlannedJob[] }[];
  readonly errors: readonly CiProblem[];
  /** The pipeline-wide variables: predefined, global `variables`, workflow rule variables, then the given ones. */
  readonly variables: ReadonlyMap<string, string>;
}

export interface PlanInput {
  readonly config: CiConfig;
  readonly trigger: PipelineTrigger;
  /** Variables from outside the file (group, project, pipeline): they win over the file's. */
  readonly variables?: ReadonlyMap<string, string>;
  /** Every file in the repository, for `rules:exists` (called only if a rule uses it). */
  readonly files?: () => readonly string[];
}

const DEFAULT_STAGES = ['build', 'test', 'deploy'];

/** A job's stage; GitLab's default is `test`. */
function stageOf(job: CiMap): string {
  return typeof job.stage === 'string' ? job.stage : 'test';
}

interface RawVariable {
  readonly value: string;
  readonly expand: boolean;
}
type RawVariables = Map<string, RawVariable>;

/** A `variables:` map as name → raw value; `{value, expand: false}` values keep their `$`. */
export function variablesOf(value: CiValue | undefined): RawVariables {
  const out: RawVariables = new Map();
  if (!isCiMap(value)) return out;
  for (const [name, entry] of Object.entries(value)) {
    if (isCiMap(entry)) out.set(name, { value: String(entry.value ?? ''), expand: entry.expand !== false });
    else out.set(name, { value: entry === null ? '' : String(entry), expand: true });
  }
  return out;
}

function rawOf(values: ReadonlyMap<string, string>): RawVariables {
  return new Map([...values].map(([name, value]) => [name, { value, expand: true }]));
}

/** Variable layers, later ones winning as GitLab's precedence does; looked up, never copied. */
type Layers = readonly ReadonlyMap<string, RawVariable>[];

function lookup(layers: Layers, name: string): RawVariable | undefined {
  for (let index = layers.length - 1; index >= 0; index -= 1) {
    const entry = layers[index]?.get(name);
    if (entry !== undefined) return entry;
  }
  return undefined;
}

/**
 * Values read with `$VAR` / `${VAR}` references expanded against the final set, so a project
 * variable that overrides a file variable changes every value built from it, as on GitLab.
 */
class ExpandedVariables {
  private readonly cache = new Map<string, string>();
  constructor(private readonly layers: Layers) {}

  get(name: string): string | undefined {
    const cached = this.cache.get(name);
    if (cached !== undefined) return cached;
    const entry = lookup(this.layers, name);
    if (entry === undefined) return undefined;
    const value = entry.expand ? this.expand(entry.value, new Set([name])) : entry.value;
    this.cache.set(name, value);
    return value;
  }

  private expand(text: string, seen: Set<string>): string {
    if (!text.includes('$')) return text;
    return expandVariables(text, {
      get: (inner: string) => {
        const entry = lookup(this.layers, inner);
        if (entry === undefined || seen.has(inner)) return undefined;
        return entry.expand ? this.expand(entry.value, new Set([...seen, inner])) : entry.value;
      },
    });
  }

  toMap(): Map<string, string> {
    const names = new Set(this.layers.flatMap((layer) => [...layer.keys()]));
    return new Map([...names].map((name) => [name, this.get(name) ?? '']));
  }
}

function stagesOf(config: CiConfig): string[] {
  const declared = Array.isArray(config.globals.stages)
    ? config.globals.stages.filter((stage): stage is string => typeof stage === 'string')
    : DEFAULT_STAGES;
  return ['.pre', ...declared.filter((stage) => stage !== '.pre' && stage !== '.post'), '.post'];
}

interface NeedName {
  readonly name: string;
  readonly optional: boolean;
  readonly local: boolean;
}

/** Read once per list: a job's needs are looked at by several checks. */
const needNames = new WeakMap<object, NeedName[]>();

function namesOf(value: CiValue | undefined): NeedName[] | null {
  if (!Array.isArray(value)) return null;
  const cached = needNames.get(value);
  if (cached !== undefined) return cached;
  const names: NeedName[] = [];
  for (const entry of value) {
    if (typeof entry === 'string') names.push({ name: entry, optional: false, local: true });
    else if (isCiMap(entry) && typeof entry.job === 'string')
      names.push({
        name: entry.job,
        optional: entry.optional === true,
        local: entry.project === undefined && entry.pipeline === undefined,
      });
  }
  needNames.set(value, names);
  return names;
}

/**
 * Creates the pipeline GitLab would create for `trigger`, offline: workflow rules, each job's
 * rules or only/except, `when`, `allow_failure` (a job-level manual job may fail, a manual job
 * from rules may not), `needs` and `dependencies` checked against the jobs actually present,
 * stages in order with `.pre` first and `.post` last.
 */
export function planPipeline(input: PlanInput): PipelinePlan {
  const { config, trigger } = input;
  const errors: CiProblem[] = [...config.problems];
  const external = input.variables ?? new Map<string, string>();
  const files = input.files ?? (() => []);
  const stages = stagesOf(config);
  const predefined = rawOf(predefinedVariables(trigger));
  const outside = rawOf(external);
  let globals: Layers = [predefined, variablesOf(config.globals.variables), outside];
  const empty = (reason: string): PipelinePlan => ({
    created: false,
    reason,
    stages: [],
    errors,
    variables: new ExpandedVariables(globals).toMap(),
  });

  const workflow = isCiMap(config.globals.workflow) ? config.globals.workflow : {};
  if (Array.isArray(workflow.rules)) {
    const rule = guard(
      errors,
      () => config.locationOf('workflow'),
      'workflow:rules',
      () =>
        firstMatchingRule(workflow.rules as CiValue[], { variables: new ExpandedVariables(globals), trigger, files }),
    );
    if (rule === undefined) return empty('no workflow:rules entry matched');
    if (rule.when === 'never') return empty(`workflow:rules: ${describeRule(rule)} says when: never`);
    globals = [...globals, variablesOf(rule.variables), outside];
  }

  const planned = new Map<string, PlannedJob>();
  const byName = new Map(config.jobs.map((job) => [job.name, job]));
  for (const job of config.jobs) {
    checkJob(job, stages, byName, errors);
    const included = includeJob(job, { globals, predefined, outside }, trigger, files, errors);
    if (included !== undefined) planned.set(job.name, included);
  }
  checkNeeds(planned, new Set(config.jobs.map((job) => job.name)), stages, errors);
  const byStage = new Map<string, PlannedJob[]>(stages.map((name) => [name, []]));
  for (const job of planned.values()) byStage.get(job.stage)?.push(job);
  const grouped = [...byStage].map(([name, jobs]) => ({ name, jobs })).filter((stage) => stage.jobs.length > 0);
  if (errors.length > 0) return { ...empty('the config has errors'), stages: grouped };
  if (!grouped.some((stage) => stage.name !== '.pre' && stage.name !== '.post'))
    return { ...empty('no jobs would run for this ref and source'), stages: [] };
  return { created: true, reason: null, stages: grouped, errors, variables: new ExpandedVariables(globals).toMap() };
}

function describeRule(rule: CiMap): string {
  return typeof rule.if === 'string' ? `if ${rule.if}` : 'a rule';
}

function guard<T>(errors: CiProblem[], location: () => SourceLocation, what: string, run: () => T): T | undefined {
  try {
    return run();
  } catch (error) {
    if (!(error instanceof ExpressionError)) throw error;
    errors.push({ message: `${what}: ${error.message}`, location: location() });
    return undefined;
  }
}

/** Static checks GitLab runs on every job, whichever ref the pipeline is for. */
function checkJob(
  job: CiJob,
  stages: readonly string[],
  byName: ReadonlyMap<string, CiJob>,
  errors: CiProblem[],
): void {
  const { definition: d, name } = job;
  const stage = stageOf(d);
  if (!stages.includes(stage))
    errors.push({
      message: `job ${name}: chosen stage ${stage} does not exist; available stages are ${stages.join(', ')}`,
      location: job.keyLocation('stage'),
    });
  if (d.script === undefined && d.trigger === undefined && d.run === undefined)
    errors.push({ message: `job ${name}: must have a script, run or trigger`, location: job.location });
  if (d.rules !== undefined && (d.only !== undefined || d.except !== undefined))
    errors.push({
      message: `job ${name}: only/except may not be used with rules`,
      location: job.keyLocation(d.only !== undefined ? 'only' : 'except'),
    });
  if (d.when !== undefined && !(JOB_WHEN as readonly CiValue[]).includes(d.when))
    errors.push({ message: `job ${name}: unknown when: ${String(d.when)}`, location: job.keyLocation('when') });
  const position = stages.indexOf(stage);
  for (const key of ['needs', 'dependencies'] as const) {
    for (const need of namesOf(d[key]) ?? []) {
      if (!need.local) continue;
      const other = byName.get(need.name);
      if (other === undefined) {
        errors.push({
          message: `job ${name}: ${key} names ${need.name}, which is not a job in the config`,
          location: job.keyLocation(key),
        });
        continue;
      }
      const otherStage = stageOf(other.definition);
      const later = stages.indexOf(otherStage) > position || (key === 'dependencies' && otherStage === stage);
      if (later && position >= 0)
        errors.push({
          message: `job ${name}: ${key} names ${need.name}, which is in ${otherStage === stage ? 'the same' : 'a later'} stage (${otherStage})`,
          location: job.keyLocation(key),
        });
    }
  }
}

/** Whether the job is in this pipeline, and with which `when`, `allow_failure`, needs and variables. */
function includeJob(
  job: CiJob,
  layers: { globals: Layers; predefined: RawVariables; outside: RawVariables },
  trigger: PipelineTrigger,
  files: () => readonly string[],
  errors: CiProblem[],
): PlannedJob | undefined {
  const { definition: d } = job;
  const inherit = isCiMap(d.inherit) ? d.inherit.variables : undefined;
  const { globals, predefined, outside } = layers;
  let inherited: Layers = globals;
  if (inherit === false) inherited = [predefined];
  else if (Array.isArray(inherit))
    inherited = [
      predefined,
      ...globals.slice(1).map((layer) => new Map([...layer].filter(([name]) => inherit.includes(name)))),
    ];
  let raw: Layers = [...inherited, variablesOf(d.variables), outside];
  const context: RuleContext = { variables: new ExpandedVariables(raw), trigger, files };
  const jobWhen = (typeof d.when === 'string' ? d.when : 'on_success') as JobWhen;
  let when = jobWhen;
  let allowFailure = d.allow_failure === true || (d.allow_failure === undefined && jobWhen === 'manual');
  let needs = d.needs;
  if (Array.isArray(d.rules)) {
    const rule = guard(
      errors,
      () => job.keyLocation('rules'),
      `job ${job.name}: rules`,
      () => firstMatchingRule(d.rules as CiValue[], context),
    );
    if (rule === undefined) return undefined;
    when = (typeof rule.when === 'string' ? rule.when : jobWhen) as JobWhen;
    // A manual job from rules blocks the pipeline unless the rule (or job) says otherwise.
    const fallback =
      d.allow_failure === true || (d.allow_failure === undefined && rule.when === undefined && jobWhen === 'manual');
    allowFailure = typeof rule.allow_failure === 'boolean' ? rule.allow_failure : fallback;
    if (rule.needs !== undefined) needs = rule.needs;
    raw = [...raw, variablesOf(rule.variables), outside];
  } else {
    const keeps = guard(
      errors,
      () => job.keyLocation(d.only !== undefined ? 'only' : 'except'),
      `job ${job.name}: only/except`,
      () => onlyExceptKeeps(d, context),
    );
    if (keeps !== true) return undefined;
  }
  if (when === 'never') return undefined;
  if (isCiMap(d.allow_failure)) allowFailure = false;
  const startIn = typeof d.start_in === 'string' ? d.start_in : null;
  if (when === 'delayed' && startIn === null)
    errors.push({ message: `job ${job.name}: when: delayed needs start_in`, location: job.keyLocation('when') });
  return {
    name: job.name,
    stage: stageOf(d),
    when,
    allowFailure,
    needs:
      namesOf(needs)
        ?.filter((need) => need.local)
        .map((need) => need.name) ?? null,
    dependencies: namesOf(d.dependencies)?.map((need) => need.name) ?? null,
    startIn,
    variables: () => new ExpandedVariables(raw).toMap(),
    definition: needs === d.needs ? d : { ...d, needs: needs ?? null },
    get location() {
      return job.location;
    },
  };
}

/** A job may only need (or take artifacts from) jobs this pipeline actually has, unless `optional`. */
function checkNeeds(
  planned: ReadonlyMap<string, PlannedJob>,
  known: ReadonlySet<string>,
  stages: readonly string[],
  errors: CiProblem[],
): void {
  for (const job of planned.values()) {
    for (const need of namesOf(job.definition.needs) ?? []) {
      if (!need.local || need.optional || planned.has(need.name) || !known.has(need.name)) continue;
      errors.push({
        message: `job ${job.name}: needs ${need.name}, which is not in this pipeline (its rules exclude it); mark the need optional: true or align the rules`,
        location: job.location,
      });
    }
    for (const name of job.dependencies ?? []) {
      const other = planned.get(name);
      if (!known.has(name)) continue;
      if (other !== undefined && stages.indexOf(other.stage) < stages.indexOf(job.stage)) continue;
      errors.push({
        message: `job ${job.name}: dependencies names ${name}, which is not in an earlier stage of this pipeline`,
        location: job.location,
      });
    }
  }
}
