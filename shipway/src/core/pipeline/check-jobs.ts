import { compileRegex, ExpressionError, parseExpression, parseRegexLiteral } from './ci-expression.js';
import type { CiJob } from './ci-model.js';
import { type CiMap, type CiProblem, type CiValue, isCiMap, type SourceLocation } from './ci-yaml.js';

export const JOB_WHEN = ['on_success', 'manual', 'always', 'on_failure', 'delayed', 'never'] as const;
export type JobWhen = (typeof JOB_WHEN)[number];

/** What `when:` a job itself may say (Entry::Job::ALLOWED_WHEN; `never` only in rules; a trigger job no delayed). */
const JOB_LEVEL_WHEN = ['on_success', 'manual', 'always', 'on_failure', 'delayed'];
const DEFAULT_STAGES = ['build', 'test', 'deploy'];

/** The stages in order: `.pre`, the declared ones (or build, test, deploy), `.post`. */
export function declaredStages(config: CiMap): string[] {
  const declared = Array.isArray(config.stages)
    ? config.stages.filter((stage): stage is string => typeof stage === 'string')
    : DEFAULT_STAGES;
  return ['.pre', ...declared.filter((stage) => stage !== '.pre' && stage !== '.post'), '.post'];
}

/** A job's stage; GitLab's default is `test`. */
export function stageOf(job: CiMap): string {
  return typeof job.stage === 'string' ? job.stage : 'test';
}

export interface NeedName {
  readonly name: string;
  readonly optional: boolean;
  readonly local: boolean;
}

/** Read once per list: a job's needs are looked at by several checks. */
const needNames = new WeakMap<object, NeedName[]>();

/** The jobs a `needs:` or `dependencies:` list names, or null when it is not a list. */
export function namesOf(value: CiValue | undefined): NeedName[] | null {
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
 * The `if` expressions of rules (a job's or the workflow's), parsed and their patterns compiled
 * without being evaluated: GitLab validates every rule with the config (Ci::Config::Entry::Rules::Rule,
 * ExpressionValidator), so a pattern RE2 rejects is an error on every branch, even in a rule
 * after the one that matched.
 */
export function checkRules(
  rules: readonly CiValue[],
  prefix: string,
  location: () => SourceLocation,
  errors: CiProblem[],
): void {
  for (const rule of rules)
    if (isCiMap(rule) && typeof rule.if === 'string') {
      const problem = expressionProblem(rule.if);
      if (problem !== undefined) errors.push({ message: `${prefix}${problem}`, location: location() });
    }
}

/** The same for `only`/`except`: regex refs (through RubySyntax) and variable expressions. */
export function checkPolicies(
  owner: CiMap,
  prefix: string,
  location: (key: string) => SourceLocation,
  errors: CiProblem[],
): void {
  const { only, except } = owner;
  if (only !== undefined) checkPolicy(only, `${prefix}only: `, () => location('only'), errors);
  if (except !== undefined) checkPolicy(except, `${prefix}except: `, () => location('except'), errors);
}

/** Why GitLab would reject an expression, or undefined. */
function expressionProblem(text: string): string | undefined {
  try {
    parseExpression(text);
    return undefined;
  } catch (error) {
    if (error instanceof ExpressionError) return error.message;
    throw error;
  }
}

/** An `only`/`except` policy's regex refs and variable expressions. */
function checkPolicy(policy: CiValue, prefix: string, location: () => SourceLocation, errors: CiProblem[]): void {
  const refs = typeof policy === 'string' ? [policy] : isCiMap(policy) ? policy.refs : policy;
  for (const ref of Array.isArray(refs) ? refs : []) {
    const literal = typeof ref === 'string' ? parseRegexLiteral(ref.split('@')[0] ?? '') : undefined;
    if (literal === undefined) continue;
    try {
      compileRegex(literal.source, literal.flags);
    } catch (error) {
      if (!(error instanceof ExpressionError)) throw error;
      errors.push({ message: `${prefix}${error.message}`, location: location() });
    }
  }
  const variables = isCiMap(policy) ? policy.variables : undefined;
  for (const text of Array.isArray(variables) ? variables : []) {
    const problem = typeof text === 'string' ? expressionProblem(text) : undefined;
    if (problem !== undefined) errors.push({ message: `${prefix}${problem}`, location: location() });
  }
}

/** Static checks GitLab runs on every job, whichever ref the pipeline is for. */
export function checkJob(
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
  checkWhen(job, errors);
  checkPolicies(d, `job ${name}: `, job.keyLocation, errors);
  checkDependenciesInNeeds(job, errors);
  const position = stages.indexOf(stage);
  // One problem per job named, not per instance of a parallel job (200 instances needing 200).
  const reported = new Set<string>();
  for (const key of ['needs', 'dependencies'] as const) {
    for (const need of namesOf(d[key]) ?? []) {
      if (!need.local) continue;
      const other = byName.get(need.name);
      const group = `${key}\u0000${other?.parallel?.job ?? need.name}`;
      if (reported.has(group)) continue;
      if (other === undefined) {
        reported.add(group);
        errors.push({
          message: `job ${name}: ${key} names ${need.name}, which is not a job in the config`,
          location: job.keyLocation(key),
        });
        continue;
      }
      const otherStage = stageOf(other.definition);
      const later = stages.indexOf(otherStage) > position || (key === 'dependencies' && otherStage === stage);
      if (!later || position < 0) continue;
      reported.add(group);
      errors.push({
        message: `job ${name}: ${key} names ${need.name}, which is in ${otherStage === stage ? 'the same' : 'a later'} stage (${otherStage})`,
        location: job.keyLocation(key),
      });
    }
  }
}

/** With both `needs` and `dependencies`, each dependency must be one of the needs (Entry::Job). */
function checkDependenciesInNeeds(job: CiJob, errors: CiProblem[]): void {
  if (!Array.isArray(job.definition.dependencies)) return;
  const needs = namesOf(job.definition.needs);
  const dependencies = namesOf(job.definition.dependencies);
  if (needs === null || needs.length === 0 || dependencies === null) return;
  const needed = new Set(needs.filter((need) => need.local).map((need) => need.name));
  const missing = dependencies
    .filter((dependency) => !needed.has(dependency.name))
    .map((dependency) => dependency.name);
  if (missing.length > 0)
    errors.push({
      message: `job ${job.name}: dependencies the ${missing.join(', ')} should be part of needs`,
      location: job.keyLocation('dependencies'),
    });
}

/**
 * `when:` on the job (Entry::Job: one of on_success, on_failure, always, manual, delayed), and
 * `start_in`, which only a `when: delayed` job without `rules` may set; with rules it goes in the
 * rule ("start in must be blank").
 */
function checkWhen(job: CiJob, errors: CiProblem[]): void {
  const { definition: d, name } = job;
  const allowed = d.trigger === undefined ? JOB_LEVEL_WHEN : JOB_LEVEL_WHEN.filter((when) => when !== 'delayed');
  if (d.when !== undefined && !(allowed as readonly CiValue[]).includes(d.when))
    errors.push({
      message: `job ${name}: when should be one of: ${allowed.join(', ')} (not ${String(d.when)})`,
      location: job.keyLocation('when'),
    });
  if (d.start_in === undefined) return;
  if (d.rules !== undefined)
    errors.push({
      message: `job ${name}: start_in may not be used with rules; put start_in in the rule with when: delayed`,
      location: job.keyLocation('start_in'),
    });
  else if (d.when !== 'delayed')
    errors.push({ message: `job ${name}: start_in needs when: delayed`, location: job.keyLocation('start_in') });
}

/**
 * A job may only need jobs this pipeline actually has, unless the need is `optional`
 * (Seed::Build#needs_errors). `dependencies` are not checked here: GitLab checks them against the
 * config (an earlier stage), and one on a job the rules leave out is no error.
 */
export function checkNeeds(
  planned: ReadonlyMap<
    string,
    {
      readonly name: string;
      readonly definition: CiMap;
      readonly location: SourceLocation;
      readonly parallel: { readonly job: string } | null;
    }
  >,
  known: ReadonlyMap<string, CiJob>,
  errors: CiProblem[],
): void {
  // One problem per job and job needed, not per pair of parallel instances.
  const reported = new Set<string>();
  for (const job of planned.values()) {
    for (const need of namesOf(job.definition.needs) ?? []) {
      if (!need.local || need.optional || planned.has(need.name)) continue;
      const other = known.get(need.name);
      const key = `${job.parallel?.job ?? job.name}\u0000${other?.parallel?.job ?? need.name}`;
      if (other === undefined || reported.has(key)) continue;
      reported.add(key);
      errors.push({
        message: `job ${job.name}: needs ${need.name}, which is not in this pipeline (its rules exclude it); mark the need optional: true or align the rules`,
        location: job.location,
      });
    }
  }
}
