import { compileRegex, evaluateExpression, parseRegexLiteral, type Variables } from './ci-expression.js';
import { type CiMap, type CiValue, isCiMap } from './ci-yaml.js';
import { globToRegExp } from './glob.js';
import { expandVariables, type PipelineTrigger } from './predefined-variables.js';

export interface RuleContext {
  readonly variables: Variables;
  readonly trigger: PipelineTrigger;
  /** Every file in the repository, for `exists` (asked for only when a rule uses it). */
  readonly files: () => readonly string[];
}

/**
 * The first rule whose clauses (`if`, `changes`, `exists`) all hold, or undefined when none does.
 * `reached.count` says how many rules were looked at (the last of them may have thrown).
 */
export function firstMatchingRule(
  rules: readonly CiValue[],
  context: RuleContext,
  reached: { count: number } = { count: 0 },
): CiMap | undefined {
  for (const rule of rules) {
    reached.count += 1;
    if (!isCiMap(rule)) continue;
    if (typeof rule.if === 'string' && !evaluateExpression(rule.if, context.variables)) continue;
    if (rule.changes !== undefined && !changesMatch(rule.changes, context)) continue;
    if (rule.exists !== undefined && !existsMatch(rule.exists, context)) continue;
    return rule;
  }
  return undefined;
}

/** The globs of a `changes`/`exists` clause (a list, or `paths:`), variables expanded, compiled. */
function globsOf(value: CiValue, variables: Variables): RegExp[] {
  const list = isCiMap(value) ? value.paths : value;
  return (Array.isArray(list) ? list : [])
    .filter((item): item is string => typeof item === 'string')
    .map((glob) => globToRegExp(expandVariables(glob, variables).replace(/^\.?\/+/, '')));
}

/**
 * `changes` is true when a changed file matches one of the globs. GitLab also treats it as true
 * when there is nothing to compare with (a new branch, a tag, a schedule, a web or API run),
 * which is what an unknown list of changed files means here.
 */
export function changesMatch(value: CiValue, context: RuleContext): boolean {
  const changed = context.trigger.changedFiles;
  if (changed === undefined) return true;
  return globsOf(value, context.variables).some((regex) => changed.some((file) => regex.test(file)));
}

/** `exists` is true when a file of the repository matches one of the globs. */
export function existsMatch(value: CiValue, context: RuleContext): boolean {
  return globsOf(value, context.variables).some((regex) => context.files().some((file) => regex.test(file)));
}

/** Which pipelines each `only`/`except` keyword stands for. */
const REF_KEYWORDS: Record<string, (trigger: PipelineTrigger) => boolean> = {
  branches: (t) => t.tag === undefined && t.source !== 'merge_request_event',
  tags: (t) => t.tag !== undefined,
  api: (t) => t.source === 'api',
  chat: (t) => t.source === 'chat',
  external: (t) => t.source === 'external',
  external_pull_requests: (t) => t.source === 'external_pull_request_event',
  merge_requests: (t) => t.source === 'merge_request_event',
  pipelines: (t) => t.source === 'pipeline' || t.source === 'parent_pipeline',
  pushes: (t) => t.source === 'push',
  schedules: (t) => t.source === 'schedule',
  triggers: (t) => t.source === 'trigger',
  web: (t) => t.source === 'web',
};

function refMatches(pattern: string, context: RuleContext): boolean {
  const { trigger } = context;
  const [name = pattern, project] = pattern.split('@');
  if (project !== undefined && project !== trigger.projectPath) return false;
  const keyword = REF_KEYWORDS[name];
  if (keyword !== undefined) return keyword(trigger);
  // Names and patterns match branch and tag pipelines only, never a merge request's.
  if (trigger.source === 'merge_request_event' || trigger.source === 'external_pull_request_event') return false;
  const ref = trigger.tag ?? trigger.branch ?? trigger.defaultBranch;
  const literal = parseRegexLiteral(name);
  return literal === undefined ? name === ref : compileRegex(literal.source, literal.flags).test(ref);
}

function policyOf(value: CiValue): CiMap {
  if (Array.isArray(value)) return { refs: value };
  if (typeof value === 'string') return { refs: [value] };
  return isCiMap(value) ? value : {};
}

/**
 * The clauses a policy has, each true when any of its entries matches (refs, variables,
 * changes; `kubernetes: active` counts as true offline). `only` needs every clause true,
 * `except` excludes when any clause is true (https://docs.gitlab.com/ci/yaml/deprecated_keywords/).
 */
function clauses(policy: CiMap, context: RuleContext): boolean[] {
  const results: boolean[] = [];
  if (Array.isArray(policy.refs))
    results.push(policy.refs.some((ref) => typeof ref === 'string' && refMatches(ref, context)));
  if (Array.isArray(policy.variables))
    results.push(
      policy.variables.some((text) => typeof text === 'string' && evaluateExpression(text, context.variables)),
    );
  if (policy.changes !== undefined) results.push(changesMatch(policy.changes, context));
  if (policy.kubernetes !== undefined) results.push(true);
  return results;
}

/** Whether `only`/`except` keep the job; without `only`, GitLab's default is `only: [branches, tags]`. */
export function onlyExceptKeeps(job: CiMap, context: RuleContext): boolean {
  const only = job.only ?? { refs: ['branches', 'tags'] };
  if (!clauses(policyOf(only), context).every(Boolean)) return false;
  if (job.except !== undefined && clauses(policyOf(job.except), context).some(Boolean)) return false;
  return true;
}
