import { ExpressionError } from './ci-expression.js';
import type { IncludeContext } from './ci-model.js';
import type { CiSources } from './ci-sources.js';
import { type CiValue, isCiMap } from './ci-yaml.js';
import { firstMatchingRule } from './match-rules.js';

const RULE_KEYS = new Set(['if', 'exists', 'changes', 'when']);

/**
 * `include:rules` (https://docs.gitlab.com/ci/yaml/includes/#use-rules-with-include): `if`,
 * `exists` (in the project the including file belongs to) and `changes`, with `when: never` or
 * `always`; the include applies when a rule matches and does not say never (External::Rules).
 * True or false, or the problem GitLab would report. Without a context (nothing to evaluate
 * against) every include applies.
 */
export function includeRulesPass(
  rules: CiValue,
  context: IncludeContext | undefined,
  sources: CiSources,
): boolean | string {
  if (!Array.isArray(rules)) return 'rules must be a list of rules';
  for (const rule of rules) {
    if (!isCiMap(rule)) return 'rules: each rule must be a map';
    const unknown = Object.keys(rule).filter((key) => !RULE_KEYS.has(key));
    if (unknown.length > 0) return `rules: rule config contains unknown keys: ${unknown.join(', ')}`;
    if (rule.when !== undefined && rule.when !== 'never' && rule.when !== 'always')
      return `rules: when must be never or always, not ${String(rule.when)}`;
  }
  if (context === undefined || context.everyInclude === true) return true;
  try {
    const matched = firstMatchingRule(rules, { ...context.rules, variables: context.variables, files: sources.list });
    return matched !== undefined && matched.when !== 'never';
  } catch (error) {
    if (error instanceof ExpressionError) return `rules: ${error.message}`;
    throw error;
  }
}
