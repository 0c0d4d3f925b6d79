import { parseCondition } from './analysis-expression-grammar.js';
import type { Node } from './analysis-expression-parser.js';

export { parseCondition } from './analysis-expression-grammar.js';
export { ExpressionSyntaxError } from './analysis-expression-parser.js';

/**
 * Argo Rollouts' condition evaluation (utils/evaluate/evaluate.go EvalCondition, v1.9.1): the
 * expression sees `result` (a Prometheus vector as a list of floats, a scalar as a float, a web
 * metric's JSON value) and `isNaN`, `isInf`, `asInt`, `asFloat`, `isNil`, `default`; it must
 * yield a bool. A type error at run time (`result[0]` of an empty list, `<` between a number and
 * a string, `and` on non-booleans) is an ExpressionError, which Argo records as a measurement
 * Error, as expr's runtime would fail.
 */
export class ExpressionError extends Error {}

type Scope = { readonly result: unknown; readonly pointer?: unknown };

const kind = (value: unknown): string =>
  value === null || value === undefined ? 'nil' : Array.isArray(value) ? 'array' : typeof value;

function number(value: unknown, op: string): number {
  if (typeof value !== 'number') throw new ExpressionError(`invalid operation: ${op} on ${kind(value)}`);
  return value;
}

function bool(value: unknown, op: string): boolean {
  if (typeof value !== 'boolean')
    throw new ExpressionError(`invalid operation: ${op} on ${kind(value)} (bool expected)`);
  return value;
}

function equal(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => equal(item, b[i]));
  if ((a ?? null) === null || (b ?? null) === null) return (a ?? null) === (b ?? null);
  return a === b;
}

function member(obj: unknown, prop: unknown, optional: boolean): unknown {
  if (obj === null || obj === undefined) {
    if (optional) return null;
    throw new ExpressionError(`cannot fetch ${String(prop)} from nil`);
  }
  if (Array.isArray(obj)) {
    if (typeof prop !== 'number' || !Number.isInteger(prop)) throw new ExpressionError(`invalid index ${String(prop)}`);
    const index = prop < 0 ? obj.length + prop : prop;
    if (index < 0 || index >= obj.length)
      throw new ExpressionError(`index out of range: ${prop} (array length is ${obj.length})`);
    return obj[index];
  }
  if (typeof obj === 'object' && typeof prop === 'string') {
    return Object.hasOwn(obj, prop) ? (obj as Record<string, unknown>)[prop] : null;
  }
  throw new ExpressionError(`cannot fetch ${String(prop)} from ${kind(obj)}`);
}

function arithmetic(op: string, l: unknown, r: unknown): unknown {
  if (op === '+' && typeof l === 'string' && typeof r === 'string') return l + r;
  const [a, b] = [number(l, op), number(r, op)];
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      return a / b;
    case '%':
      if (!Number.isInteger(a) || !Number.isInteger(b)) throw new ExpressionError('invalid operation: % on floats');
      if (b === 0) throw new ExpressionError('integer divide by zero');
      return a % b;
    default:
      return a ** b;
  }
}

function compare(op: string, l: unknown, r: unknown): boolean {
  const comparable =
    (typeof l === 'number' && typeof r === 'number') || (typeof l === 'string' && typeof r === 'string');
  if (!comparable) throw new ExpressionError(`invalid operation: ${kind(l)} ${op} ${kind(r)}`);
  const [a, b] = [l as number | string, r as number | string];
  return op === '<' ? a < b : op === '>' ? a > b : op === '<=' ? a <= b : a >= b;
}

function binary(node: Extract<Node, { k: 'binary' }>, scope: Scope): unknown {
  const { op } = node;
  const left = evaluate(node.l, scope);
  if (op === 'and' || op === '&&') return bool(left, op) && bool(evaluate(node.r, scope), op);
  if (op === 'or' || op === '||') return bool(left, op) || bool(evaluate(node.r, scope), op);
  if (op === '??') return left ?? evaluate(node.r, scope);
  const right = evaluate(node.r, scope);
  if (op === '==' || op === '!=') return equal(left, right) === (op === '==');
  if (['<', '>', '<=', '>='].includes(op)) return compare(op, left, right);
  if (op === 'in') {
    if (Array.isArray(right)) return right.some((item) => equal(item, left));
    if (right !== null && typeof right === 'object') return Object.hasOwn(right, String(left));
    throw new ExpressionError(`invalid operation: in ${kind(right)}`);
  }
  if (op === 'contains' || op === 'startsWith' || op === 'endsWith') {
    if (typeof left !== 'string' || typeof right !== 'string') throw new ExpressionError(`invalid operation: ${op}`);
    return op === 'contains'
      ? left.includes(right)
      : op === 'startsWith'
        ? left.startsWith(right)
        : left.endsWith(right);
  }
  return arithmetic(op, left, right);
}

function asNumber(value: unknown, truncate: boolean, fn: string): number {
  const parsed = typeof value === 'string' ? Number(value.trim() === '' ? Number.NaN : value) : value;
  if (typeof parsed !== 'number' || (typeof value === 'string' && Number.isNaN(parsed)))
    throw new ExpressionError(`${fn}() not supported on ${kind(value)} ${String(value)}`);
  return truncate ? Math.trunc(parsed) : parsed;
}

function call(node: Extract<Node, { k: 'call' }>, scope: Scope): unknown {
  const args = node.fn.length > 0 && ['all', 'any', 'none', 'one', 'filter', 'map', 'count'].includes(node.fn);
  if (args) return predicate(node, scope);
  const values = node.args.map((arg) => evaluate(arg, scope));
  const [first, second] = values;
  switch (node.fn) {
    case 'len':
      if (Array.isArray(first) || typeof first === 'string') return first.length;
      if (first !== null && typeof first === 'object') return Object.keys(first).length;
      throw new ExpressionError(`invalid argument for len (type ${kind(first)})`);
    case 'isNaN':
      return Number.isNaN(number(first, 'isNaN'));
    case 'isInf':
      return !Number.isFinite(number(first, 'isInf')) && !Number.isNaN(first);
    case 'asInt':
    case 'int':
      return asNumber(first, true, node.fn);
    case 'asFloat':
    case 'float':
      return asNumber(first, false, node.fn);
    case 'abs':
      return Math.abs(number(first, 'abs'));
    case 'isNil':
      return scope.result === null || scope.result === undefined;
    default: // default(x, fallback): Argo's defaultFunc ignores x and looks at result.
      return scope.result === null || scope.result === undefined ? second : scope.result;
  }
}

function predicate(node: Extract<Node, { k: 'call' }>, scope: Scope): unknown {
  const [arrayNode, body] = node.args;
  const array = evaluate(arrayNode ?? { k: 'lit', v: null }, scope);
  if (!Array.isArray(array)) throw new ExpressionError(`cannot iterate over ${kind(array)}`);
  const test = (item: unknown) => evaluate(body ?? { k: 'lit', v: true }, { ...scope, pointer: item });
  const hits = () => array.filter((item) => bool(test(item), node.fn));
  switch (node.fn) {
    case 'all':
      return array.every((item) => bool(test(item), 'all'));
    case 'any':
      return array.some((item) => bool(test(item), 'any'));
    case 'none':
      return !array.some((item) => bool(test(item), 'none'));
    case 'one':
      return hits().length === 1;
    case 'filter':
      return hits();
    case 'count':
      return hits().length;
    default:
      return array.map(test);
  }
}

function evaluate(node: Node, scope: Scope): unknown {
  switch (node.k) {
    case 'lit':
      return node.v;
    case 'id':
      return scope.result;
    case 'pointer':
      return scope.pointer;
    case 'array':
      return node.items.map((item) => evaluate(item, scope));
    case 'member':
      return member(evaluate(node.obj, scope), evaluate(node.prop, scope), node.optional);
    case 'cond':
      return bool(evaluate(node.test, scope), '?:') ? evaluate(node.yes, scope) : evaluate(node.no, scope);
    case 'call':
      return call(node, scope);
    case 'binary':
      return binary(node, scope);
    case 'unary': {
      const value = evaluate(node.arg, scope);
      if (node.op === 'not' || node.op === '!') return !bool(value, node.op);
      return node.op === '-' ? -number(value, '-') : number(value, '+');
    }
  }
}

/** Evaluates a condition against a measurement's result; it must come out a bool (EvalCondition). */
export function evaluateCondition(expression: string, result: unknown): boolean {
  const output = evaluate(parseCondition(expression), { result });
  if (typeof output !== 'boolean') throw new ExpressionError(`expected bool, but got ${kind(output)}`);
  return output;
}
