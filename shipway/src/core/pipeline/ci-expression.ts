import { createRequire } from 'node:module';
import type { RE2JS } from 're2js';

/**
 * GitLab's CI/CD expression language for `rules:if`, `workflow:rules:if` and `only/except:
 * variables` (https://docs.gitlab.com/ci/jobs/job_rules/#cicd-variable-expressions):
 * `$VAR`, "strings", 'strings', /regex/flags, null, ==, !=, =~, !~, &&, || (&& binds tighter)
 * and parentheses. A bare variable is true when it is set and not empty; an undefined variable
 * is null; the pattern on the right of =~ may be a quoted string or a variable holding `/regex/`.
 */
export interface Variables {
  get(name: string): string | undefined;
}

type Token =
  | { kind: 'var'; name: string }
  | { kind: 'string'; value: string }
  | { kind: 'regex'; source: string; flags: string }
  | { kind: 'null' }
  | { kind: 'op'; op: '==' | '!=' | '=~' | '!~' | '&&' | '||' | '(' | ')' };

type Expr =
  | { kind: 'value'; token: Token }
  | { kind: 'compare'; op: '==' | '!=' | '=~' | '!~'; left: Token; right: Token }
  | { kind: 'and' | 'or'; left: Expr; right: Expr };

export class ExpressionError extends Error {}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  while (index < text.length) {
    const rest = text.slice(index);
    const space = /^\s+/.exec(rest);
    if (space) {
      index += space[0].length;
      continue;
    }
    const variable = /^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/.exec(rest);
    const string = /^"([^"]*)"|^'([^']*)'/.exec(rest);
    const regex = /^\/((?:\\.|[^/\\])*)\/([A-Za-z]*)/.exec(rest);
    const op = /^(==|!=|=~|!~|&&|\|\||\(|\))/.exec(rest);
    if (variable) tokens.push({ kind: 'var', name: variable[1] ?? variable[2] ?? '' });
    else if (string) tokens.push({ kind: 'string', value: string[1] ?? string[2] ?? '' });
    else if (op) tokens.push({ kind: 'op', op: op[1] as '==' });
    else if (regex) tokens.push({ kind: 'regex', source: regex[1] ?? '', flags: regex[2] ?? '' });
    else if (/^null\b/.test(rest)) tokens.push({ kind: 'null' });
    else throw new ExpressionError(`cannot read "${rest.slice(0, 20)}" in the expression`);
    index += (variable ?? string ?? op ?? regex ?? ['null'])[0].length;
  }
  return tokens;
}

function parse(tokens: Token[]): Expr {
  let position = 0;
  const peek = () => tokens[position];
  const isOp = (token: Token | undefined, op: string) => token?.kind === 'op' && token.op === op;
  const operand = (): Token => {
    const token = tokens[position];
    if (token === undefined || token.kind === 'op') throw new ExpressionError('a value is missing');
    position += 1;
    return token;
  };
  const primary = (): Expr => {
    if (isOp(peek(), '(')) {
      position += 1;
      const inner = or();
      if (!isOp(peek(), ')')) throw new ExpressionError('a closing parenthesis is missing');
      position += 1;
      return inner;
    }
    const left = operand();
    const next = peek();
    if (next?.kind === 'op' && ['==', '!=', '=~', '!~'].includes(next.op)) {
      position += 1;
      return { kind: 'compare', op: next.op as '==', left, right: operand() };
    }
    return { kind: 'value', token: left };
  };
  const and = (): Expr => {
    let left = primary();
    while (isOp(peek(), '&&')) {
      position += 1;
      left = { kind: 'and', left, right: primary() };
    }
    return left;
  };
  const or = (): Expr => {
    let left = and();
    while (isOp(peek(), '||')) {
      position += 1;
      left = { kind: 'or', left, right: and() };
    }
    return left;
  };
  const expression = or();
  if (position !== tokens.length) throw new ExpressionError('unexpected text after the expression');
  return expression;
}

const cache = new Map<string, Expr>();
const regexes = new Map<string, CiPattern>();

/**
 * Parses once (memoized: a 3,000-job config repeats the same few conditions). Its regex literals
 * are compiled here, as GitLab's lexer does (Lexeme::Pattern), so a pattern RE2 rejects is an
 * error wherever the rule is written, whichever ref is planned.
 */
export function parseExpression(text: string): Expr {
  let expression = cache.get(text);
  if (expression === undefined) {
    const tokens = tokenize(text);
    for (const token of tokens) if (token.kind === 'regex') compileRegex(token.source, token.flags);
    expression = parse(tokens);
    cache.set(text, expression);
  }
  return expression;
}

function tokenValue(token: Token, variables: Variables): string | null {
  if (token.kind === 'var') return variables.get(token.name) ?? null;
  if (token.kind === 'string') return token.value;
  if (token.kind === 'regex') return `/${token.source}/${token.flags}`;
  return null;
}

/** `/source/flags` as its parts, or undefined when the text is not a regex literal. */
export function parseRegexLiteral(text: string): { source: string; flags: string } | undefined {
  const match = /^\/(.*)\/([A-Za-z]*)$/s.exec(text);
  return match === null ? undefined : { source: match[1] ?? '', flags: match[2] ?? '' };
}

/** A compiled CI pattern: all that `=~` and a regex ref need. */
export interface CiPattern {
  test(text: string): boolean;
}

/** The flags GitLab's RubySyntax accepts after the closing slash. */
const FLAGS = /^[ismU]*$/;

/**
 * RE2 (the re2js port), loaded on first use: 260 kB of JavaScript that a config whose patterns
 * are all plain text never needs; loading it costs about a tenth of planning 3,000 jobs.
 */
let engine: typeof RE2JS | undefined;
function re2(): typeof RE2JS {
  if (engine === undefined) {
    const loaded: unknown = createRequire(import.meta.url)('re2js');
    if (!isRe2(loaded)) throw new Error('the re2js package exports no RE2JS');
    engine = loaded.RE2JS;
  }
  return engine;
}

function isRe2(value: unknown): value is { RE2JS: typeof RE2JS } {
  return typeof value === 'object' && value !== null && 'RE2JS' in value && typeof value.RE2JS === 'function';
}

/**
 * Plain text, perhaps anchored: printable ASCII that is no RE2 operator, or punctuation escaped
 * with a backslash, between an optional ^ and an optional $.
 */
const LITERAL = /^(\^?)((?:[ !"#%&',\-/0-9:;<=>@A-Z_`a-z~]|\\[!-/:-@[-`{-~])*)(\$?)$/;

/**
 * A pattern without flags that is plain text matches the same in every engine, so it is matched
 * as text: RE2 without the m flag reads ^ as the start of the text and $ as its end.
 */
function literalPattern(source: string, flags: string): CiPattern | undefined {
  const match = flags === '' ? LITERAL.exec(source) : null;
  if (match === null) return undefined;
  const text = (match[2] ?? '').replace(/\\(.)/g, '$1');
  const start = match[1] === '^';
  const end = match[3] === '$';
  if (start && end) return { test: (value) => value === text };
  if (start) return { test: (value) => value.startsWith(text) };
  if (end) return { test: (value) => value.endsWith(text) };
  return { test: (value) => value.includes(text) };
}

/**
 * A CI pattern compiled as GitLab compiles it: with RE2 (Gitlab::UntrustedRegexp, through
 * UntrustedRegexp::RubySyntax), the flags written in front as `(?flags)`. So `i` ignores case,
 * `m` lets ^ and $ match at line ends (RE2's multi-line, not Ruby's), `s` lets . match a newline
 * and `U` makes quantifiers lazy; there are no backreferences or lookaround, and matching takes
 * time linear in the text (https://github.com/google/re2/wiki/Syntax). Compiled once per pattern.
 */
export function compileRegex(source: string, flags: string): CiPattern {
  const key = `/${source}/${flags}`;
  const cached = regexes.get(key);
  if (cached !== undefined) return cached;
  if (!FLAGS.test(flags)) throw new ExpressionError(`unsupported regex flags /${flags} (GitLab accepts i, m, s, U)`);
  try {
    const regex = literalPattern(source, flags) ?? re2().compile(flags === '' ? source : `(?${flags})${source}`);
    regexes.set(key, regex);
    return regex;
  } catch (error) {
    const reason = error instanceof Error ? error.message.replace(/^error parsing regexp: /, '') : String(error);
    throw new ExpressionError(
      `invalid regex /${source}/${flags}: ${reason} (GitLab uses RE2: no lookaround or backreferences)`,
    );
  }
}

/**
 * The right side of `=~` / `!~` as GitLab's Lexeme::Matches evaluates it: a /regex/ literal; or a
 * value (a quoted string, a variable) that is itself `/regex/flags` (Pattern.build_and_evaluate);
 * or, when the value is not a valid pattern, the text itself, which Ruby's String#scan then
 * searches for the left side. An undefined variable is null: no pattern at all.
 */
function patternOf(token: Token, variables: Variables): CiPattern | null {
  if (token.kind === 'regex') return compileRegex(token.source, token.flags);
  const text = tokenValue(token, variables);
  if (text === null) return null;
  const literal = parseRegexLiteral(text);
  if (literal !== undefined && /^[ismU]*$/.test(literal.flags)) {
    try {
      return compileRegex(literal.source, literal.flags);
    } catch (error) {
      if (!(error instanceof ExpressionError)) throw error;
    }
  }
  // `"abc".scan(left)`: true when the left side's text occurs in this one.
  return { test: (left) => text.includes(left) };
}

function evaluate(expression: Expr, variables: Variables): boolean {
  switch (expression.kind) {
    case 'and':
      return evaluate(expression.left, variables) && evaluate(expression.right, variables);
    case 'or':
      return evaluate(expression.left, variables) || evaluate(expression.right, variables);
    case 'value': {
      const value = tokenValue(expression.token, variables);
      return value !== null && value !== '';
    }
    case 'compare': {
      const left = tokenValue(expression.left, variables);
      if (expression.op === '==' || expression.op === '!=') {
        const equal = left === tokenValue(expression.right, variables);
        return expression.op === '==' ? equal : !equal;
      }
      // Lexeme::Matches / NotMatches: no pattern (an undefined variable) is false for =~, true
      // for !~; an undefined left side is matched as empty text (nil.to_s).
      const pattern = patternOf(expression.right, variables);
      if (pattern === null) return expression.op === '!~';
      const matched = pattern.test(left ?? '');
      return expression.op === '=~' ? matched : !matched;
    }
  }
}

/** Evaluates `text` against the variables; throws ExpressionError on an expression GitLab would reject. */
export function evaluateExpression(text: string, variables: Variables): boolean {
  return evaluate(parseExpression(text), variables);
}
