import { compileRegex, ExpressionError } from './ci-expression.js';
import { type CiMap, type CiValue, isCiMap } from './ci-yaml.js';

/**
 * `spec:inputs` (https://docs.gitlab.com/ci/inputs/): the values a file's header declares, each
 * given (by `include:inputs`, or for the main file by the pipeline) or else its `default`, checked
 * as GitLab's Ci::Config::Interpolation::Inputs checks them: an input without a default is
 * required, `type` is string (the default), number, boolean or array, `options` lists the allowed
 * values and `regex` (RE2, string inputs only) must match.
 */
export interface InputProblem {
  readonly message: string;
  /** The input the problem is about, when it is about one. */
  readonly input?: string | undefined;
  /** True when the header itself is wrong (a bad default, an unknown type), not a given value. */
  readonly inSpec: boolean;
}

const INPUT_KEYS = new Set(['default', 'description', 'options', 'regex', 'type', 'rules']);
const SPEC_KEYS = new Set(['inputs', 'include', 'component']);
const TYPES = ['array', 'boolean', 'number', 'string'] as const;
/** Header::Input allows at most this many options. */
const MAX_OPTIONS = 50;

function typeOf(value: CiValue): string {
  if (Array.isArray(value)) return 'array';
  return isCiMap(value) ? 'map' : typeof value;
}

/** The inputs' values, or why they cannot be given. */
export function resolveInputs(
  header: CiMap,
  given: CiMap | undefined,
): { values: Map<string, CiValue>; problems: InputProblem[] } {
  const problems: InputProblem[] = [];
  const values = new Map<string, CiValue>();
  const spec = header.spec;
  if (!isCiMap(spec)) {
    problems.push({ message: 'header: spec must be a map with inputs', inSpec: true });
    return { values, problems };
  }
  const unknownSpec = Object.keys(spec).filter((key) => !SPEC_KEYS.has(key));
  if (unknownSpec.length > 0)
    problems.push({ message: `header:spec config contains unknown keys: ${unknownSpec.join(', ')}`, inSpec: true });
  const specs = isCiMap(spec.inputs) ? spec.inputs : {};
  if (spec.inputs !== undefined && spec.inputs !== null && !isCiMap(spec.inputs))
    problems.push({ message: 'header:spec:inputs must be a map of inputs', inSpec: true });
  const unknown = Object.keys(given ?? {}).filter((name) => !(name in specs));
  if (unknown.length > 0) problems.push({ message: `unknown input arguments: ${unknown.join(', ')}`, inSpec: false });
  for (const [name, entry] of Object.entries(specs)) {
    const value = resolveInput(name, entry, given?.[name], problems);
    if (value !== undefined) values.set(name, value);
  }
  return { values, problems };
}

function resolveInput(
  name: string,
  entry: CiValue,
  given: CiValue | undefined,
  problems: InputProblem[],
): CiValue | undefined {
  const specProblem = (message: string) =>
    problems.push({ message: `\`${name}\` input: ${message}`, input: name, inSpec: true });
  if (entry !== null && !isCiMap(entry)) {
    specProblem('the input must be a map of default, description, options, regex, type');
    return undefined;
  }
  const spec: CiMap = entry ?? {};
  const unknownKeys = Object.keys(spec).filter((key) => !INPUT_KEYS.has(key));
  if (unknownKeys.length > 0) specProblem(`config contains unknown keys: ${unknownKeys.join(', ')}`);
  const type = spec.type ?? 'string';
  if (!(TYPES as readonly CiValue[]).includes(type)) {
    specProblem(`unknown input type ${String(type)} (valid types: ${TYPES.join(', ')})`);
    return undefined;
  }
  const options = spec.options;
  if (options !== undefined && (!Array.isArray(options) || options.length > MAX_OPTIONS))
    specProblem(`options must be a list of at most ${MAX_OPTIONS} values`);
  const hasDefault = 'default' in spec || defaultFromRules(spec) !== undefined;
  const fromSpec = given === undefined || given === null;
  const value = fromSpec ? ('default' in spec ? (spec.default ?? null) : (defaultFromRules(spec) ?? null)) : given;
  const problem = (message: string) =>
    problems.push({ message: `\`${name}\` input: ${message}`, input: name, inSpec: fromSpec && hasDefault });
  if (fromSpec && !hasDefault) {
    problem('required value has not been provided');
    return undefined;
  }
  if (value === null && fromSpec) return value;
  if (typeOf(value) !== type) {
    problem(`${fromSpec ? 'default' : 'provided'} value is not a ${type}`);
    return undefined;
  }
  if (Array.isArray(options) && !options.some((option) => sameValue(option, value)))
    problem(`\`${String(value)}\` cannot be used because it is not in the list of allowed options`);
  if (type === 'string' && typeof spec.regex === 'string' && typeof value === 'string')
    checkRegex(spec.regex, value, fromSpec, problem);
  return value;
}

function sameValue(a: CiValue, b: CiValue): boolean {
  return (
    a === b || (typeof a !== 'object' && typeof b !== 'object' && String(a) === String(b) && typeOf(a) === typeOf(b))
  );
}

/**
 * `spec:inputs:rules` (GitLab 18.7) chooses a default from the other inputs' values; that is not
 * evaluated here. The last rule without `if` is the documented fallback, and is used as the default.
 */
function defaultFromRules(spec: CiMap): CiValue | undefined {
  if (!Array.isArray(spec.rules)) return undefined;
  const fallback = spec.rules.findLast((rule) => isCiMap(rule) && rule.if === undefined);
  return isCiMap(fallback) && 'default' in fallback ? (fallback.default ?? null) : undefined;
}

/** An input's `regex`, matched (unanchored) with RE2 as Gitlab::UntrustedRegexp matches it. */
function checkRegex(pattern: string, value: string, fromSpec: boolean, problem: (message: string) => void): void {
  try {
    if (!compileRegex(pattern, '').test(value))
      problem(`${fromSpec ? 'default' : 'provided'} value does not match required RegEx pattern`);
  } catch (error) {
    if (!(error instanceof ExpressionError)) throw error;
    problem('invalid regular expression');
  }
}
