import { checkRules, type JobWhen, namesOf, stageOf } from './check-jobs.js';
import { ExpressionError } from './ci-expression.js';
import type { CiJob, ParallelInstance } from './ci-model.js';
import { type CiMap, type CiProblem, type CiValue, isCiMap, type SourceLocation } from './ci-yaml.js';
import { firstMatchingRule, onlyExceptKeeps, type RuleContext } from './match-rules.js';
import {
  ExpandedVariables,
  type Layers,
  type RawVariable,
  type RawVariables,
  type VariableLayer,
  variablesOf,
} from './pipeline-variables.js';
import { type PipelineTrigger, refSlug } from './predefined-variables.js';

export interface PlannedJob {
  readonly name: string;
  readonly stage: string;
  readonly when: JobWhen;
  readonly allowFailure: boolean;
  /** `allow_failure: exit_codes:`: the exit codes that may fail (allowFailure is then false). */
  readonly allowFailureExitCodes: readonly number[] | null;
  /** null without `needs:`; else the names of the jobs it needs (in this pipeline). */
  readonly needs: readonly string[] | null;
  readonly dependencies: readonly string[] | null;
  readonly startIn: string | null;
  /** The job's variables (predefined, global, job, matrix, the matching rule's, outside ones), expanded; computed on demand. */
  readonly variables: () => ReadonlyMap<string, string>;
  readonly definition: CiMap;
  readonly location: SourceLocation;
  /** One instance of a `parallel` job: which, of how many, with which matrix variables. */
  readonly parallel: ParallelInstance | null;
}

/** The variable layers a job starts from, and whether `workflow:rules` exist (then no default only/except). */
export interface JobContext {
  readonly globals: Layers;
  readonly predefined: RawVariables;
  readonly outside: RawVariables;
  readonly workflowRules: boolean;
  readonly trigger: PipelineTrigger;
  readonly files: () => readonly string[];
}

/**
 * The predefined variables GitLab sets per job that `rules` can read ("Pipeline" availability in
 * https://docs.gitlab.com/ci/variables/predefined_variables/): CI_JOB_NAME, CI_JOB_NAME_SLUG,
 * CI_JOB_STAGE, CI_NODE_INDEX and CI_NODE_TOTAL, CI_JOB_GROUP_NAME for a parallel job, and
 * CI_ENVIRONMENT_NAME, _URL and _ACTION from `environment:` (expanded like other variables).
 * A layer that makes each value when it is first asked for: most jobs' rules read none of them,
 * and building them for 3,000 jobs cost a tenth of the plan.
 */
const JOB_VARIABLES = new Set([
  'CI_JOB_NAME',
  'CI_JOB_NAME_SLUG',
  'CI_JOB_STAGE',
  'CI_NODE_TOTAL',
  'CI_NODE_INDEX',
  'CI_JOB_GROUP_NAME',
  'CI_ENVIRONMENT_NAME',
  'CI_ENVIRONMENT_URL',
  'CI_ENVIRONMENT_ACTION',
]);

class JobPredefined implements VariableLayer {
  constructor(
    private readonly job: CiJob,
    private readonly stage: string,
  ) {}

  get(name: string): RawVariable | undefined {
    if (!JOB_VARIABLES.has(name)) return undefined;
    const value = this.value(name);
    if (value === undefined) return undefined;
    return { value: value.text, expand: value.expand, locate: () => this.job.keyLocation('environment') };
  }

  keys(): string[] {
    return [...JOB_VARIABLES].filter((name) => this.get(name) !== undefined);
  }

  private value(name: string): { text: string; expand: boolean } | undefined {
    const { job } = this;
    const plain = (text: string | undefined) => (text === undefined ? undefined : { text, expand: false });
    const environment = job.definition.environment;
    const field = (key: string) => {
      const value = isCiMap(environment) ? environment[key] : key === 'name' ? environment : undefined;
      return typeof value === 'string' ? value : undefined;
    };
    switch (name) {
      case 'CI_JOB_NAME':
        return plain(job.name);
      case 'CI_JOB_NAME_SLUG':
        return plain(refSlug(job.name));
      case 'CI_JOB_STAGE':
        return plain(this.stage);
      case 'CI_NODE_TOTAL':
        return plain(String(job.parallel?.total ?? 1));
      case 'CI_NODE_INDEX':
        return plain(job.parallel === undefined ? undefined : String(job.parallel.index));
      case 'CI_JOB_GROUP_NAME':
        return plain(job.parallel?.job);
      case 'CI_ENVIRONMENT_NAME':
      case 'CI_ENVIRONMENT_URL': {
        const text = field(name === 'CI_ENVIRONMENT_NAME' ? 'name' : 'url');
        return text === undefined ? undefined : { text, expand: true };
      }
      case 'CI_ENVIRONMENT_ACTION':
        return plain(field('action'));
      default:
        return undefined;
    }
  }
}

/** The layers a job's variables are read from: predefined, inherited globals, the job's own, its matrix values. */
function jobLayers(job: CiJob, context: JobContext, errors: CiProblem[]): Layers {
  const { definition: d } = job;
  const inherit = isCiMap(d.inherit) ? d.inherit.variables : undefined;
  const { globals, predefined } = context;
  // One array per job: this runs for every job of a large config.
  const layers: VariableLayer[] = [predefined, new JobPredefined(job, stageOf(d))];
  for (let index = 1; inherit !== false && index < globals.length; index += 1) {
    const layer = globals[index];
    if (layer !== undefined) layers.push(Array.isArray(inherit) ? onlyNames(layer, inherit) : layer);
  }
  layers.push(variablesOf(d.variables, () => job.keyLocation('variables'), errors));
  const matrix = job.parallel?.variables;
  if (matrix !== undefined) {
    const locate = () => job.keyLocation('parallel');
    layers.push(new Map([...matrix].map(([name, value]) => [name, { value, expand: true, locate }])));
  }
  layers.push(context.outside);
  return layers;
}

/** A layer with only the variables `inherit:variables` lists. */
function onlyNames(layer: VariableLayer, names: readonly CiValue[]): VariableLayer {
  const kept = new Map<string, RawVariable>();
  for (const name of layer.keys()) {
    const raw = names.includes(name) ? layer.get(name) : undefined;
    if (raw !== undefined) kept.set(name, raw);
  }
  return kept;
}

/** Whether the job is in this pipeline, and with which `when`, `allow_failure`, needs and variables. */
export function planJob(job: CiJob, context: JobContext, errors: CiProblem[]): PlannedJob | undefined {
  const { definition: d } = job;
  let raw = jobLayers(job, context, errors);
  const rules: RuleContext = { variables: new ExpandedVariables(raw), trigger: context.trigger, files: context.files };
  const jobWhen = (typeof d.when === 'string' ? d.when : 'on_success') as JobWhen;
  let when = jobWhen;
  let allowFailure = d.allow_failure === true || (d.allow_failure === undefined && jobWhen === 'manual');
  let needs = d.needs;
  let startIn = jobWhen === 'delayed' && typeof d.start_in === 'string' ? d.start_in : null;
  if (Array.isArray(d.rules)) {
    const rule = matchRules(d.rules, rules, `job ${job.name}: rules`, () => job.keyLocation('rules'), errors);
    if (rule === undefined) return undefined;
    when = (typeof rule.when === 'string' ? rule.when : jobWhen) as JobWhen;
    // A manual job from rules blocks the pipeline unless the rule (or job) says otherwise.
    const fallback =
      d.allow_failure === true || (d.allow_failure === undefined && rule.when === undefined && jobWhen === 'manual');
    allowFailure = typeof rule.allow_failure === 'boolean' ? rule.allow_failure : fallback;
    if (rule.needs !== undefined) needs = rule.needs;
    // A delayed job from rules takes the rule's start_in (https://docs.gitlab.com/ci/yaml/#rulesstart_in).
    if (rule.when === 'delayed') startIn = typeof rule.start_in === 'string' ? rule.start_in : null;
    raw = [...raw, variablesOf(rule.variables, () => job.keyLocation('rules'), errors), context.outside];
  } else if (d.only !== undefined || d.except !== undefined || !context.workflowRules) {
    // With workflow:rules, a job without only/except has no default `only: [branches, tags]`
    // (Entry::Processable#compose!): it is in every pipeline the workflow lets through.
    const keeps = guard(
      errors,
      () => job.keyLocation(d.only !== undefined ? 'only' : 'except'),
      `job ${job.name}: only/except`,
      () => onlyExceptKeeps(d, rules),
    );
    if (keeps !== true) return undefined;
  }
  if (when === 'never') return undefined;
  const exitCodes = allowFailureExitCodes(d.allow_failure);
  if (isCiMap(d.allow_failure)) allowFailure = false;
  if (when === 'delayed' && startIn === null)
    errors.push({ message: `job ${job.name}: when: delayed needs start_in`, location: job.keyLocation('when') });
  return {
    name: job.name,
    stage: stageOf(d),
    when,
    allowFailure,
    allowFailureExitCodes: exitCodes,
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
    parallel: job.parallel ?? null,
  };
}

/** `allow_failure: exit_codes: 137` or `[137, 255]` (https://docs.gitlab.com/ci/yaml/#allow_failureexit_codes). */
function allowFailureExitCodes(value: CiValue | undefined): number[] | null {
  if (!isCiMap(value)) return null;
  const codes = value.exit_codes;
  const list = Array.isArray(codes) ? codes : [codes];
  return list.filter((code): code is number => typeof code === 'number');
}

/**
 * The first matching rule; then the rules after it are checked without being evaluated (GitLab
 * validates every rule, and evaluating parsed the ones it reached: checking those again would
 * cost a tenth of planning 3,000 jobs).
 */
export function matchRules(
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
