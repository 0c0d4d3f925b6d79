import { parseAllDocuments } from 'yaml';

// Just enough of GitLab's `spec:inputs` (doc/ci/inputs/_index.md) for the tests to check the
// component and the includes `shipway init` writes, until the planner interpolates inputs itself:
// types, defaults, regex, mandatory inputs, and `$[[ inputs.x ]]` replacing a whole value with
// its typed value or a part of a string with its text.

export interface InputSpec {
  readonly type?: 'string' | 'number' | 'boolean' | 'array';
  readonly default?: unknown;
  readonly regex?: string;
  readonly options?: readonly unknown[];
}

export interface Component {
  readonly inputs: Readonly<Record<string, InputSpec>>;
  readonly config: unknown;
}

/** The header document (spec) and the configuration after `---`. */
export function loadComponent(text: string): Component {
  const documents = parseAllDocuments(text);
  if (documents.length !== 2) throw new Error(`expected a spec header and a config, got ${documents.length} documents`);
  const [header, config] = documents.map((document) => {
    if (document.errors.length > 0) throw new Error(document.errors[0]?.message);
    return document.toJS();
  });
  return { inputs: header.spec.inputs, config };
}

const typeOf = (value: unknown) => (Array.isArray(value) ? 'array' : typeof value);

/** The inputs' values (given, else default), or the problems GitLab would report. */
export function resolveInputs(
  specs: Readonly<Record<string, InputSpec>>,
  given: Readonly<Record<string, unknown>>,
): { values: Record<string, unknown>; problems: string[] } {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const name of Object.keys(given)) if (!(name in specs)) problems.push(`unknown input ${name}`);
  for (const [name, spec] of Object.entries(specs)) {
    const value = name in given ? given[name] : spec.default;
    if (value === undefined) {
      problems.push(`${name}: required`);
      continue;
    }
    if (typeOf(value) !== (spec.type ?? 'string'))
      problems.push(`${name}: ${typeOf(value)}, not ${spec.type ?? 'string'}`);
    if (spec.regex !== undefined && !new RegExp(spec.regex).test(String(value)))
      problems.push(`${name}: ${JSON.stringify(value)} does not match ${spec.regex}`);
    if (spec.options !== undefined && !spec.options.includes(value)) problems.push(`${name}: not one of the options`);
    values[name] = value;
  }
  return { values, problems };
}

const WHOLE = /^\$\[\[\s*inputs\.([A-Za-z0-9_-]+)\s*\]\]$/;
const PART = /\$\[\[\s*inputs\.([A-Za-z0-9_-]+)\s*\]\]/g;

/** `$[[ inputs.x ]]` replaced everywhere, keys included. */
export function interpolate(value: unknown, inputs: Readonly<Record<string, unknown>>): unknown {
  const text = (input: string) =>
    input.replace(PART, (_all, name: string) => {
      if (!(name in inputs)) throw new Error(`unknown input ${name}`);
      const found = inputs[name];
      return Array.isArray(found) ? JSON.stringify(found) : String(found);
    });
  if (typeof value === 'string') {
    const whole = WHOLE.exec(value);
    if (whole?.[1] !== undefined && whole[1] in inputs) return inputs[whole[1]];
    return text(value);
  }
  if (Array.isArray(value)) return value.map((item) => interpolate(item, inputs));
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [text(key), interpolate(item, inputs)]));
  return value;
}
