import { checkJob, checkNeeds, declaredStages } from './check-jobs.js';
import { type CiMap, type CiProblem, type CiValue, isCiMap, type SourceLocation } from './ci-yaml.js';
import type { CiConfig } from './load-ci-config.js';
import { ExpandedVariables, type Layers, rawOf, VariableExpansionError, variablesOf } from './pipeline-variables.js';
import { matchRules, type PlannedJob, planJob } from './plan-job.js';
import { type PipelineTrigger, predefinedVariables } from './predefined-variables.js';

export { JOB_WHEN, type JobWhen } from './check-jobs.js';
export type { PlannedJob } from './plan-job.js';

/** What a trigger job starts: a child pipeline (planned here when its config can be read) or another project's. */
export type Downstream =
  | { readonly kind: 'child'; readonly plan: PipelinePlan | null; readonly reason: string | null }
  | { readonly kind: 'project'; readonly project: string; readonly branch: string | null };

export interface PipelinePlan {
  readonly created: boolean;
  /** Why no pipeline is created (workflow rules, no jobs, errors, [skip ci]). */
  readonly reason: string | null;
  readonly stages: readonly { readonly name: string; readonly jobs: readonly PlannedJob[] }[];
  readonly errors: readonly CiProblem[];
  /** The pipeline-wide variables: predefined, global `variables`, workflow rule variables, then the given ones. */
  readonly variables: ReadonlyMap<string, string>;
  /** For each trigger job (by name), what it starts. */
  readonly downstream: ReadonlyMap<string, Downstream>;
}

export interface PlanInput {
  readonly config: CiConfig;
  readonly trigger: PipelineTrigger;
  /** Variables from outside the file (group, project, pipeline): they win over the file's. */
  readonly variables?: ReadonlyMap<string, string>;
  /** Every file in the repository, for `rules:exists` (called only if a rule uses it). */
  readonly files?: () => readonly string[];
  /** Reads a child pipeline's config from a trigger job's `trigger:include`; without it, children are not planned. */
  readonly child?:
    | ((include: CiValue, at: SourceLocation, variables: ReadonlyMap<string, string>) => CiConfig)
    | undefined;
  /** How deep this pipeline is below the first (a child of a child is 2; GitLab allows 2). */
  readonly depth?: number;
}

/** Chain::Skip::SKIP_PATTERN: `[ci skip]`, `[skip ci]` (or `-`, `_` between), in any case. */
const SKIP_PATTERN = /\[(ci[ _-]skip|skip[ _-]ci)\]/i;
/** GitLab nests child pipelines at most two levels deep. */
const MAX_CHILD_DEPTH = 2;

/**
 * Creates the pipeline GitLab would create for `trigger`, offline: [skip ci], workflow rules, each
 * job's rules or only/except, `when`, `allow_failure` (a job-level manual job may fail, a manual
 * job from rules may not), `needs` checked against the jobs actually present (optional ones left
 * out when their job is), stages in order with `.pre` first and `.post` last, and the child
 * pipelines trigger jobs start.
 */
export function planPipeline(input: PlanInput): PipelinePlan {
  const errors: CiProblem[] = [...input.config.problems];
  try {
    return plan(input, errors);
  } catch (error) {
    // A variable too large to expand ends the plan: every job that reads it would hit it again.
    if (!(error instanceof VariableExpansionError)) throw error;
    errors.push(error.problem);
    return notCreated('the config has errors', errors, new Map());
  }
}

function notCreated(reason: string, errors: CiProblem[], variables: ReadonlyMap<string, string>): PipelinePlan {
  return { created: false, reason, stages: [], errors, variables, downstream: new Map() };
}

function plan(input: PlanInput, errors: CiProblem[]): PipelinePlan {
  const { config, trigger } = input;
  const files = input.files ?? (() => []);
  // A push whose commit message says [skip ci] creates no pipeline; GitLab stops before the config.
  if (trigger.source === 'push' && SKIP_PATTERN.test(trigger.message))
    return notCreated('the commit message says [skip ci]', [], new Map());
  const stages = declaredStages(config.globals);
  const predefined = rawOf(predefinedVariables(trigger), 'predefined variables');
  const outside = rawOf(input.variables ?? new Map<string, string>(), '--var');
  const globalVariables = variablesOf(config.globals.variables, (name) => config.locationOf('variables', name), errors);
  let globals: Layers = [predefined, globalVariables, outside];
  const empty = (reason: string) => notCreated(reason, errors, new ExpandedVariables(globals).toMap());

  const workflow = isCiMap(config.globals.workflow) ? config.globals.workflow : {};
  const workflowLocation = () => config.locationOf('workflow');
  const workflowRules = Array.isArray(workflow.rules);
  if (Array.isArray(workflow.rules)) {
    const context = { variables: new ExpandedVariables(globals), trigger, files };
    const rule = matchRules(workflow.rules, context, 'workflow:rules', workflowLocation, errors);
    if (rule === undefined) return empty('no workflow:rules entry matched');
    if (rule.when === 'never') return empty(`workflow:rules: ${describeRule(rule)} says when: never`);
    globals = [...globals, variablesOf(rule.variables, workflowLocation, errors), outside];
  }

  const planned = new Map<string, PlannedJob>();
  const byName = new Map(config.jobs.map((job) => [job.name, job]));
  const context = { globals, predefined, outside, workflowRules, trigger, files };
  for (const job of config.jobs) {
    // A parallel job's instances share their config: checked once, by the first.
    if (job.parallel === undefined || job.parallel.index === 1) checkJob(job, stages, byName, errors);
    const included = planJob(job, context, errors);
    if (included !== undefined) planned.set(job.name, included);
  }
  checkNeeds(planned, byName, errors);
  const jobs = [...planned.values()].map((job) => withPlannedNeeds(job, planned));
  const byStage = new Map<string, PlannedJob[]>(stages.map((name) => [name, []]));
  for (const job of jobs) byStage.get(job.stage)?.push(job);
  const grouped = [...byStage].map(([name, list]) => ({ name, jobs: list })).filter((stage) => stage.jobs.length > 0);
  if (errors.length > 0) return { ...empty('the config has errors'), stages: grouped };
  if (!grouped.some((stage) => stage.name !== '.pre' && stage.name !== '.post'))
    return { ...empty('no jobs would run for this ref and source'), stages: [] };
  return {
    created: true,
    reason: null,
    stages: grouped,
    errors,
    variables: new ExpandedVariables(globals).toMap(),
    downstream: downstreamOf(jobs, input, predefined),
  };
}

function describeRule(rule: CiMap): string {
  return typeof rule.if === 'string' ? `if ${rule.if}` : 'a rule';
}

/**
 * An optional need on a job that is not in this pipeline is dropped, as GitLab drops it when it
 * creates the job (https://docs.gitlab.com/ci/yaml/#needsoptional); `dependencies` keep only
 * jobs of this pipeline (one the rules leave out passes no artifacts, and is no error).
 */
function withPlannedNeeds(job: PlannedJob, planned: ReadonlyMap<string, PlannedJob>): PlannedJob {
  const present = (name: string) => planned.has(name);
  if ((job.needs?.every(present) ?? true) && (job.dependencies?.every(present) ?? true)) return job;
  return { ...job, needs: job.needs?.filter(present) ?? null, dependencies: job.dependencies?.filter(present) ?? null };
}

/**
 * Trigger jobs (https://docs.gitlab.com/ci/pipelines/downstream_pipelines/): `trigger:project` starts
 * another project's pipeline (shown, not planned); `trigger:include` a child pipeline, planned
 * here as GitLab creates it: source parent_pipeline, the trigger job's variables forwarded.
 */
function downstreamOf(
  jobs: readonly PlannedJob[],
  input: PlanInput,
  predefined: ReadonlyMap<string, unknown>,
): Map<string, Downstream> {
  const out = new Map<string, Downstream>();
  for (const job of jobs) {
    const value = job.definition.trigger;
    if (value === undefined || value === null) continue;
    const spec: CiMap = typeof value === 'string' ? { project: value } : isCiMap(value) ? value : {};
    if (typeof spec.project === 'string') {
      const branch = typeof spec.branch === 'string' ? spec.branch : null;
      out.set(job.name, { kind: 'project', project: spec.project, branch });
    } else if (spec.include !== undefined) out.set(job.name, childOf(job, spec.include, input, predefined));
  }
  return out;
}

function childOf(
  job: PlannedJob,
  include: CiValue,
  input: PlanInput,
  predefined: ReadonlyMap<string, unknown>,
): Downstream {
  const depth = (input.depth ?? 0) + 1;
  const entries = Array.isArray(include) ? include : [include];
  if (entries.some((entry) => isCiMap(entry) && entry.artifact !== undefined))
    return {
      kind: 'child',
      plan: null,
      reason: 'a dynamic child pipeline: its config is an artifact made when the pipeline runs',
    };
  if (input.child === undefined) return { kind: 'child', plan: null, reason: 'child pipelines are not planned here' };
  if (depth > MAX_CHILD_DEPTH)
    return { kind: 'child', plan: null, reason: `child pipelines nest at most ${MAX_CHILD_DEPTH} levels deep` };
  const forwarded = new Map(input.variables ?? []);
  for (const [name, value] of job.variables())
    if (!predefined.has(name) && !/^CI_(JOB|NODE|ENVIRONMENT)_/.test(name)) forwarded.set(name, value);
  const trigger: PipelineTrigger = { ...input.trigger, source: 'parent_pipeline' };
  const config = input.child(include, job.location, forwarded);
  const plan = planPipeline({ ...input, config, trigger, variables: forwarded, depth });
  return { kind: 'child', plan, reason: null };
}
