import { compileRegex, ExpressionError, parseExpression, parseRegexLiteral } from './ci-expression.js';
import { type CiMap, type CiProblem, type CiValue, isCiMap, type SourceLocation } from './ci-yaml.js';
import type { CiJob } from './load-ci-config.js';

export const JOB_WHEN = ['on_success', 'manual', 'always', 'on_failure', 'delayed', 'never'] as const;
export type JobWhen = (typeof JOB_WHEN)[number];

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
  if (d.when !== undefined && !(JOB_WHEN as readonly CiValue[]).includes(d.when))
    errors.push({ message: `job ${name}: unknown when: ${String(d.when)}`, location: job.keyLocation('when') });
  checkPolicies(d, `job ${name}: `, job.keyLocation, errors);
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

/** The planned jobs' needs and dependencies, against the jobs this pipeline actually has. */
export interface PlannedNeeds {
  readonly name: string;
  readonly stage: string;
  readonly definition: CiMap;
  readonly dependencies: readonly string[] | null;
}

/** A job may only need (or take artifacts from) jobs this pipeline actually has, unless `optional`. */
export function checkNeeds(
  planned: ReadonlyMap<string, PlannedNeeds & { readonly location: SourceLocation }>,
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
