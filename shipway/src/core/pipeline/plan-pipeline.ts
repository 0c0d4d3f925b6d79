import { checkJob, checkNeeds, checkRules, type JobWhen, namesOf, stageOf } from './check-jobs.js';
import { ExpressionError } from './ci-expression.js';
import { type CiMap, type CiProblem, type CiValue, isCiMap, type SourceLocation } from './ci-yaml.js';
import type { CiConfig, CiJob } from './load-ci-config.js';
import { firstMatchingRule, onlyExceptKeeps, type RuleContext } from './match-rules.js';
import {
  ExpandedVariables,
  type Layers,
  type RawVariables,
  rawOf,
  VariableExpansionError,
  variablesOf,
} from './pipeline-variables.js';
import { type PipelineTrigger, predefinedVariables } from './predefined-variables.js';

export { JOB_WHEN, type JobWhen } from './check-jobs.js';

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

function stagesOf(config: CiConfig): string[] {
  const declared = Array.isArray(config.globals.stages)
    ? config.globals.stages.filter((stage): stage is string => typeof stage === 'string')
    : DEFAULT_STAGES;
  return ['.pre', ...declared.filter((stage) => stage !== '.pre' && stage !== '.post'), '.post'];
}

/**
 * Creates the pipeline GitLab would create for `trigger`, offline: workflow rules, each job's
 * rules or only/except, `when`, `allow_failure` (a job-level manual job may fail, a manual job
 * from rules may not), `needs` and `dependencies` checked against the jobs actually present,
 * stages in order with `.pre` first and `.post` last.
 */
export function planPipeline(input: PlanInput): PipelinePlan {
  const errors: CiProblem[] = [...input.config.problems];
  try {
    return plan(input, errors);
  } catch (error) {
    // A variable too large to expand ends the plan: every job that reads it would hit it again.
    if (!(error instanceof VariableExpansionError)) throw error;
    errors.push(error.problem);
    return { created: false, reason: 'the config has errors', stages: [], errors, variables: new Map() };
  }
}

function plan(input: PlanInput, errors: CiProblem[]): PipelinePlan {
  const { config, trigger } = input;
  const files = input.files ?? (() => []);
  const stages = stagesOf(config);
  const predefined = rawOf(predefinedVariables(trigger), 'predefined variables');
  const outside = rawOf(input.variables ?? new Map<string, string>(), '--var');
  const globalVariables = variablesOf(config.globals.variables, (name) => config.locationOf('variables', name), errors);
  let globals: Layers = [predefined, globalVariables, outside];
  const empty = (reason: string): PipelinePlan => ({
    created: false,
    reason,
    stages: [],
    errors,
    variables: new ExpandedVariables(globals).toMap(),
  });

  const workflow = isCiMap(config.globals.workflow) ? config.globals.workflow : {};
  const workflowLocation = () => config.locationOf('workflow');
  if (Array.isArray(workflow.rules)) {
    const context = { variables: new ExpandedVariables(globals), trigger, files };
    const rule = matchRules(workflow.rules, context, 'workflow:rules', workflowLocation, errors);
    if (rule === undefined) return empty('no workflow:rules entry matched');
    if (rule.when === 'never') return empty(`workflow:rules: ${describeRule(rule)} says when: never`);
    globals = [...globals, variablesOf(rule.variables, workflowLocation, errors), outside];
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

/**
 * The first matching rule; then the rules after it are checked without being evaluated (GitLab
 * validates every rule, and evaluating parsed the ones it reached: checking those again would
 * cost a tenth of planning 3,000 jobs).
 */
function matchRules(
  rules: readonly CiValue[],
  context: RuleContext,
  what: string,
  location: () => SourceLocation,
  errors: CiProblem[],
): CiMap | undefined {
  const reached = { count: 0 };
  const rule = guard(errors, location, what, () => firstMatchingRule(rules, context, reached));
  checkRules(rules.slice(reached.count), `${what}: `, location, errors);
  return rule;
}

/** Runs `run`; an expression GitLab would reject becomes an error, reported once per place. */
function guard<T>(errors: CiProblem[], location: () => SourceLocation, what: string, run: () => T): T | undefined {
  try {
    return run();
  } catch (error) {
    if (!(error instanceof ExpressionError)) throw error;
    const { file, line } = location();
    const known = errors.some(
      (e) => e.location.file === file && e.location.line === line && e.message.endsWith(error.message),
    );
    if (!known) errors.push({ message: `${what}: ${error.message}`, location: { file, line } });
    return undefined;
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
  let raw: Layers = [...inherited, variablesOf(d.variables, () => job.keyLocation('variables'), errors), outside];
  const context: RuleContext = { variables: new ExpandedVariables(raw), trigger, files };
  const jobWhen = (typeof d.when === 'string' ? d.when : 'on_success') as JobWhen;
  let when = jobWhen;
  let allowFailure = d.allow_failure === true || (d.allow_failure === undefined && jobWhen === 'manual');
  let needs = d.needs;
  if (Array.isArray(d.rules)) {
    const rule = matchRules(d.rules, context, `job ${job.name}: rules`, () => job.keyLocation('rules'), errors);
    if (rule === undefined) return undefined;
    when = (typeof rule.when === 'string' ? rule.when : jobWhen) as JobWhen;
    // A manual job from rules blocks the pipeline unless the rule (or job) says otherwise.
    const fallback =
      d.allow_failure === true || (d.allow_failure === undefined && rule.when === undefined && jobWhen === 'manual');
    allowFailure = typeof rule.allow_failure === 'boolean' ? rule.allow_failure : fallback;
    if (rule.needs !== undefined) needs = rule.needs;
    raw = [...raw, variablesOf(rule.variables, () => job.keyLocation('rules'), errors), outside];
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
