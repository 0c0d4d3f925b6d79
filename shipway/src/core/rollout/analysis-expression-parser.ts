/**
 * A parser for the part of expr (github.com/antonmedv/expr v1.15.5, which Argo Rollouts v1.9.1
 * compiles conditions with in utils/evaluate/evaluate.go) that AnalysisTemplates use: literals,
 * `result`, member and index access (`result[0]`, `result.data.ok`, `?.`), arithmetic, comparisons,
 * `and`/`or`/`not` and `&&`/`||`/`!`, `in`/`not in`, `??`, `?:`, and the builtins below, with
 * predicates written `{# < 0.5}` or `# < 0.5`. Precedences and associativity follow expr's
 * parser/operator/operator.go and parser.go (parseExpression, parsePrimary).
 */
export type Node =
  | { readonly k: 'lit'; readonly v: unknown }
  | { readonly k: 'id'; readonly name: string }
  | { readonly k: 'pointer' }
  | { readonly k: 'member'; readonly obj: Node; readonly prop: Node; readonly optional: boolean }
  | { readonly k: 'unary'; readonly op: string; readonly arg: Node }
  | { readonly k: 'binary'; readonly op: string; readonly l: Node; readonly r: Node }
  | { readonly k: 'cond'; readonly test: Node; readonly yes: Node; readonly no: Node }
  | { readonly k: 'call'; readonly fn: string; readonly args: readonly Node[] }
  | { readonly k: 'array'; readonly items: readonly Node[] };

export class ExpressionSyntaxError extends Error {}

export const VARIABLES = new Set(['result']);
export const FUNCTIONS = new Set([
  'len',
  'isNaN',
  'isInf',
  'asInt',
  'asFloat',
  'isNil',
  'default',
  'abs',
  'int',
  'float',
]);
export const PREDICATES = new Set(['all', 'any', 'none', 'one', 'filter', 'map', 'count']);

export const BINARY: Readonly<Record<string, { prec: number; right?: true }>> = {
  or: { prec: 10 },
  '||': { prec: 10 },
  and: { prec: 15 },
  '&&': { prec: 15 },
  '==': { prec: 20 },
  '!=': { prec: 20 },
  '<': { prec: 20 },
  '>': { prec: 20 },
  '>=': { prec: 20 },
  '<=': { prec: 20 },
  in: { prec: 20 },
  contains: { prec: 20 },
  startsWith: { prec: 20 },
  endsWith: { prec: 20 },
  '+': { prec: 30 },
  '-': { prec: 30 },
  '*': { prec: 60 },
  '/': { prec: 60 },
  '%': { prec: 60 },
  '**': { prec: 100, right: true },
  '^': { prec: 100, right: true },
  '??': { prec: 500 },
};
export const UNARY: Readonly<Record<string, number>> = { not: 50, '!': 50, '-': 90, '+': 90 };
const WORD_OPERATORS = new Set(['and', 'or', 'not', 'in', 'contains', 'startsWith', 'endsWith', 'matches']);

export type Token = { kind: 'num' | 'str' | 'id' | 'op'; value: string; at: number; literal?: unknown };

const TOKEN =
  /\s*(?:(0[xX][0-9a-fA-F_]+|\d[\d_]*(?:\.(?!\.)\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|([A-Za-z_$][A-Za-z0-9_$]*)|(\?\.|\?\?|\*\*|==|!=|<=|>=|&&|\|\||\.\.|[-+*/%^<>!()[\]{},.?:#|]))/y;

function unquote(quoted: string, at: number): string {
  const body = quoted.slice(1, -1);
  return body.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, code: string) => {
    const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'" };
    if (code.startsWith('u')) return String.fromCharCode(Number.parseInt(code.slice(1), 16));
    const out = simple[code];
    if (out === undefined) throw new ExpressionSyntaxError(`invalid escape \\${code} at column ${at + 1}`);
    return out;
  });
}

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  let at = 0;
  for (let match = TOKEN.exec(text); match !== null; match = TOKEN.exec(text)) {
    const start = match.index + (match[0].length - match[0].trimStart().length);
    const [, num, str, id, op] = match;
    if (num !== undefined) tokens.push({ kind: 'num', value: num, at: start, literal: Number(num.replace(/_/g, '')) });
    else if (str !== undefined) tokens.push({ kind: 'str', value: str, at: start, literal: unquote(str, start) });
    else if (id !== undefined) tokens.push({ kind: WORD_OPERATORS.has(id) ? 'op' : 'id', value: id, at: start });
    else tokens.push({ kind: 'op', value: op ?? '', at: start });
    at = TOKEN.lastIndex;
  }
  const rest = text.slice(at);
  if (rest.trim() !== '') {
    const column = at + rest.length - rest.trimStart().length + 1;
    throw new ExpressionSyntaxError(`cannot read ${JSON.stringify(rest.trim())} at column ${column}`);
  }
  return tokens;
}
