import type { Variables } from './ci-expression.js';
import { type CiMap, type CiValue, isCiMap } from './ci-yaml.js';

/**
 * `$[[ … ]]` blocks, replaced in every key and value of a file that has a `spec:` header, as
 * GitLab's Ci::Config::Interpolation::Template replaces them: `$[[ inputs.name ]]` alone in a value
 * is the input with its type (an array stays an array); inside a longer string it is its text.
 * A block may pass the value through up to three of the documented functions
 * (https://docs.gitlab.com/ci/inputs/#predefined-interpolation-functions): `expand_vars`,
 * `truncate(offset,length)` and `posix_escape`. `$[[ matrix.* ]]` blocks are left for the
 * parallel:matrix needs that use them.
 */
export interface InterpolationContext {
  readonly inputs: ReadonlyMap<string, CiValue>;
  /** `$[[ component.name ]]`, `.version`, `.sha`, `.reference` in a component's own file. */
  readonly component?: Readonly<Record<string, string>> | undefined;
  /** What `expand_vars` expands: the variables an `include` may use. */
  readonly variables: Variables;
}

/** Template::MAX_BLOCKS, Config::MAX_NODES and MAX_NODE_SIZE, Block::MAX_FUNCTIONS, Access limits. */
const MAX_BLOCKS = 10_000;
const MAX_NODES = 500_000;
const MAX_NODE_SIZE = 1024 * 1024;
const MAX_FUNCTIONS = 3;
const MAX_ACCESS_BYTES = 1024;
const BLOCK = /\$\[\[\s*(\S.*?\S)\s*\]\]/g;

class InterpolationError extends Error {}

/** The interpolated value, or the first problems found (GitLab stops at the first). */
export function interpolateConfig(
  value: CiMap,
  context: InterpolationContext,
): { value: CiMap; problems: readonly string[] } {
  const blocks = new Map<string, CiValue>();
  let nodes = 0;
  const replaceString = (text: string): CiValue => {
    if (!text.includes('$[[')) return text;
    if (text.length > MAX_NODE_SIZE) throw new InterpolationError('config node too large');
    const found = [...text.matchAll(BLOCK)];
    if (found.length === 0) return text;
    const values = found.map(([block, data]) => {
      let known = blocks.get(block);
      if (known === undefined && !blocks.has(block)) {
        known = evaluateBlock(block, data ?? '', context);
        blocks.set(block, known);
        if (blocks.size > MAX_BLOCKS) throw new InterpolationError('too many interpolation blocks');
      }
      return known ?? null;
    });
    const [first] = found;
    if (found.length === 1 && first?.[0] === text) return values[0] ?? null;
    let out = text;
    for (const [index, [block]] of found.entries()) out = out.split(block).join(rubyString(values[index] ?? null));
    return out;
  };
  const walk = (node: CiValue): CiValue => {
    nodes += 1;
    if (nodes > MAX_NODES) throw new InterpolationError('config too large');
    if (typeof node === 'string') return replaceString(node);
    if (Array.isArray(node)) return node.map(walk);
    if (!isCiMap(node)) return node;
    const out: CiMap = {};
    for (const [key, item] of Object.entries(node)) {
      nodes += 1;
      const newKey = replaceString(key);
      out[typeof newKey === 'string' ? newKey : rubyString(newKey)] = walk(item);
    }
    return out;
  };
  try {
    const result = walk(value);
    return { value: isCiMap(result) ? result : {}, problems: [] };
  } catch (error) {
    if (!(error instanceof InterpolationError)) throw error;
    return { value, problems: [error.message] };
  }
}

/** `<access> | <function> | …`: the value, or an InterpolationError. A matrix block stays as written. */
function evaluateBlock(block: string, data: string, context: InterpolationContext): CiValue {
  const [access = '', ...functions] = data.split('|').map((part) => part.trim());
  const objects = access.split('.');
  if (objects[0] === 'matrix') return block;
  if (objects.length <= 1) throw new InterpolationError('invalid interpolation access pattern');
  if (Buffer.byteLength(access) > MAX_ACCESS_BYTES)
    throw new InterpolationError('maximum interpolation expression size exceeded');
  if (functions.length > MAX_FUNCTIONS) throw new InterpolationError('too many functions in interpolation block');
  let value = lookup(objects, context);
  for (const expression of functions) value = applyFunction(expression, value, context.variables);
  return value;
}

function lookup(objects: readonly string[], context: InterpolationContext): CiValue {
  const [scope = '', key = '', ...rest] = objects;
  const unknown = (name: string) => new InterpolationError(`unknown interpolation key: \`${name}\``);
  let value: CiValue | undefined;
  if (scope === 'inputs') value = context.inputs.get(key);
  else if (scope === 'component' && context.component !== undefined) value = context.component[key];
  else throw unknown(scope);
  if (value === undefined) throw unknown(key);
  for (const part of rest) {
    const next: CiValue | undefined = isCiMap(value) ? value[part] : undefined;
    if (next === undefined) throw unknown(part);
    value = next;
  }
  return value;
}

function applyFunction(expression: string, value: CiValue, variables: Variables): CiValue {
  const truncate = /^truncate\(\s*(\d+)\s*,\s*(\d+)\s*\)$/.exec(expression);
  const name = truncate === null ? expression : 'truncate';
  if (name !== 'expand_vars' && name !== 'truncate' && name !== 'posix_escape')
    throw new InterpolationError(
      `no function matching \`${expression}\`: check that the function name, arguments, and types are correct`,
    );
  if (typeof value !== 'string')
    throw new InterpolationError(
      `error in \`${name}\` function: invalid input type: ${name} can only be used with string inputs`,
    );
  if (truncate !== null) {
    const offset = Number(truncate[1]);
    return [...value].slice(offset, offset + Number(truncate[2])).join('');
  }
  return name === 'expand_vars' ? expandExisting(value, variables) : posixEscape(value);
}

/**
 * ExpandVariables.expand_existing: `$VAR` and `${VAR}` of variables that exist, one level (no
 * nested expansion); references to variables that do not exist stay as written.
 */
function expandExisting(text: string, variables: Variables): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (match, braced, bare) => {
    const found = variables.get(String(braced ?? bare));
    return found ?? match;
  });
}

/** Ruby's Shellwords.shellescape: a backslash before each character a POSIX shell treats specially. */
function posixEscape(text: string): string {
  if (text === '') return "''";
  return text.replace(/[^A-Za-z0-9_\-.,:+/@\n]/g, '\\$&').replace(/\n/g, "'\n'");
}

/** A value as Ruby's to_s writes it inside a string: arrays and maps in inspect form. */
function rubyString(value: CiValue): string {
  if (value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value !== 'object') return String(value);
  const inspect = (item: CiValue): string => {
    if (item === null) return 'nil';
    if (typeof item === 'string') return JSON.stringify(item);
    if (Array.isArray(item)) return `[${item.map(inspect).join(', ')}]`;
    if (isCiMap(item))
      return `{${Object.entries(item)
        .map(([key, entry]) => `${JSON.stringify(key)} => ${inspect(entry)}`)
        .join(', ')}}`;
    return String(item);
  };
  return inspect(value);
}
