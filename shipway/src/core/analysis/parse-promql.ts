import type { SyntaxNode } from '@lezer/common';
import { parser } from '@prometheus-io/lezer-promql';
import { InvalidSpecError, positionOf } from './invalid-spec.js';
import type { AggregateOp, BinaryOp, Expr, FunctionName, ValueType, VectorMatching } from './promql-ast.js';
import { isComparison } from './promql-ast.js';
import { parseDurationMs, parseNumberLiteral, unquoteString } from './promql-literals.js';
import { readSelector } from './promql-selector.js';

/**
 * PromQL through the Prometheus project's own grammar (@prometheus-io/lezer-promql), turned into
 * the subset shipway evaluates: instant and range selectors; rate, irate, increase,
 * histogram_quantile, vector, scalar, clamp_min, clamp_max, absent; sum/avg/min/max/count with
 * by/without; arithmetic and comparison operators with bool, on/ignoring, group_left/group_right.
 * Anything else is an InvalidSpecError naming the construct and its line:column.
 */
export interface ParsedQuery {
  readonly expr: Expr;
  readonly type: ValueType;
}

interface Typed {
  readonly expr: Expr;
  readonly type: ValueType;
}

const SUPPORTED = 'rate, irate, increase, histogram_quantile, vector, scalar, clamp_min, clamp_max, absent';
const AGGREGATES = new Set<string>(['sum', 'avg', 'min', 'max', 'count']);
const OPERATORS: Readonly<Record<string, BinaryOp>> = {
  Add: '+',
  Sub: '-',
  Mul: '*',
  Div: '/',
  Mod: '%',
  Pow: '^',
  Eql: '==',
  Neq: '!=',
  Gtr: '>',
  Lss: '<',
  Gte: '>=',
  Lte: '<=',
};
const UNSUPPORTED_NODES: Readonly<Record<string, string>> = {
  SubqueryExpr: 'a subquery',
  OffsetExpr: 'the offset modifier',
  StepInvariantExpr: 'the @ modifier',
  AnchoredExpr: 'the anchored modifier',
  SmoothedExpr: 'the smoothed modifier',
};
/** Argument types per function (Prometheus promql/parser/functions.go). */
const SIGNATURES: Readonly<Record<FunctionName, { args: ValueType[]; returns: ValueType }>> = {
  rate: { args: ['matrix'], returns: 'vector' },
  irate: { args: ['matrix'], returns: 'vector' },
  increase: { args: ['matrix'], returns: 'vector' },
  histogram_quantile: { args: ['scalar', 'vector'], returns: 'vector' },
  vector: { args: ['scalar'], returns: 'vector' },
  scalar: { args: ['vector'], returns: 'scalar' },
  clamp_min: { args: ['vector', 'scalar'], returns: 'vector' },
  clamp_max: { args: ['vector', 'scalar'], returns: 'vector' },
  absent: { args: ['vector'], returns: 'vector' },
};

class Reader {
  constructor(readonly query: string) {}

  fail(node: { from: number }, message: string): never {
    throw new InvalidSpecError(
      `PromQL ${positionOf(this.query, node.from)}: ${message}`,
      `shipway evaluates this PromQL subset: selectors, ${SUPPORTED}, sum/avg/min/max/count, arithmetic and comparisons`,
    );
  }

  text(node: SyntaxNode): string {
    return this.query.slice(node.from, node.to);
  }

  expect(node: SyntaxNode, typed: Typed, type: ValueType, what: string): Typed {
    if (typed.type !== type) this.fail(node, `${what} expects a ${type}, got a ${typed.type}`);
    return typed;
  }

  read(node: SyntaxNode): Typed {
    const unsupported = UNSUPPORTED_NODES[node.name];
    if (unsupported !== undefined) this.fail(node, `${unsupported} is not supported`);
    switch (node.name) {
      case 'ParenExpr':
        return this.read(exprChildren(node)[0] ?? this.fail(node, 'empty parentheses'));
      case 'NumberDurationLiteral': {
        const value = parseNumberLiteral(this.text(node));
        if (value === undefined) this.fail(node, `cannot read the number ${this.text(node)}`);
        return { expr: { kind: 'number', value }, type: 'scalar' };
      }
      case 'StringLiteral': {
        const value = unquoteString(this.text(node));
        if (value === undefined) this.fail(node, `cannot read the string ${this.text(node)}`);
        return { expr: { kind: 'string', value }, type: 'string' };
      }
      case 'VectorSelector':
        return { expr: { kind: 'selector', matchers: readSelector(this, node) }, type: 'vector' };
      case 'MatrixSelector':
        return this.matrix(node);
      case 'FunctionCall':
        return this.call(node);
      case 'AggregateExpr':
        return this.aggregate(node);
      case 'BinaryExpr':
        return this.binary(node);
      case 'UnaryExpr':
        return this.unary(node);
      default:
        return this.fail(node, `${node.name} is not supported`);
    }
  }

  private matrix(node: SyntaxNode): Typed {
    const selector = node.getChild('VectorSelector') ?? this.fail(node, 'a range needs a selector');
    const duration = node.getChild('DurationExpr') ?? this.fail(node, 'a range needs a duration');
    const literal = duration.getChild('NumberDurationLiteralInDurationContext');
    if (literal === null || literal.from !== duration.from || literal.to !== duration.to)
      this.fail(duration, 'duration arithmetic is not supported');
    const rangeMs = parseDurationMs(this.text(literal));
    if (rangeMs === undefined || rangeMs <= 0) this.fail(duration, `cannot read the range ${this.text(duration)}`);
    return { expr: { kind: 'matrix', matchers: readSelector(this, selector), rangeMs }, type: 'matrix' };
  }

  private call(node: SyntaxNode): Typed {
    const identifier = node.getChild('FunctionIdentifier') ?? this.fail(node, 'a call needs a function');
    const name = this.text(identifier);
    if (!(name in SIGNATURES)) this.fail(node, `the function ${name}() is not supported`);
    const fn = name as FunctionName;
    const signature = SIGNATURES[fn];
    const body = node.getChild('FunctionCallBody') ?? this.fail(node, `${name}() needs arguments`);
    const argNodes = exprChildren(body);
    if (argNodes.length !== signature.args.length)
      this.fail(body, `${name}() takes ${signature.args.length} argument(s), got ${argNodes.length}`);
    const args = argNodes.map((arg, index) =>
      this.expect(arg, this.read(arg), signature.args[index] ?? 'scalar', `${name}() argument ${index + 1}`),
    );
    if (signature.args[0] === 'matrix' && argNodes[0]?.name !== 'MatrixSelector')
      this.fail(argNodes[0] ?? body, `${name}() needs a range selector such as metric[1m]`);
    return { expr: { kind: 'call', fn, args: args.map((arg) => arg.expr) }, type: signature.returns };
  }

  private aggregate(node: SyntaxNode): Typed {
    const opNode = node.getChild('AggregateOp') ?? this.fail(node, 'an aggregation needs an operator');
    const op = this.text(opNode);
    if (!AGGREGATES.has(op))
      this.fail(opNode, `the aggregation ${op} is not supported (sum, avg, min, max, count are)`);
    const body = node.getChild('FunctionCallBody') ?? this.fail(node, `${op} needs an argument`);
    const args = exprChildren(body);
    if (args.length !== 1) this.fail(body, `${op} takes 1 argument, got ${args.length}`);
    const arg = this.expect(body, this.read(args[0] ?? body), 'vector', op);
    const modifier = node.getChild('AggregateModifier');
    return {
      expr: {
        kind: 'aggregate',
        op: op as AggregateOp,
        without: modifier?.getChild('Without') !== null && modifier !== null,
        grouping: modifier === null ? undefined : this.labelList(modifier.getChild('GroupingLabels')),
        arg: arg.expr,
      },
      type: 'vector',
    };
  }

  labelList(node: SyntaxNode | null): string[] {
    if (node === null) return [];
    return node.getChildren('LabelName').map((label) => this.text(label));
  }

  private binary(node: SyntaxNode): Typed {
    const operands = exprChildren(node);
    const modifiers = new Set(['BoolModifier', 'MatchingModifierClause']);
    const opNode = childList(node).find((child) => !EXPR_NODES.has(child.name) && !modifiers.has(child.name));
    const op = OPERATORS[opNode?.name ?? ''];
    if (opNode === undefined || op === undefined)
      this.fail(opNode ?? node, `the operator ${opNode === undefined ? '?' : this.text(opNode)} is not supported`);
    const [lhsNode, rhsNode] = operands;
    if (lhsNode === undefined || rhsNode === undefined) this.fail(node, 'an operator needs two operands');
    const lhs = this.read(lhsNode);
    const rhs = this.read(rhsNode);
    for (const [side, typed] of [
      [lhsNode, lhs],
      [rhsNode, rhs],
    ] as const) {
      if (typed.type !== 'scalar' && typed.type !== 'vector')
        this.fail(side, `binary expressions take scalars and instant vectors, got a ${typed.type}`);
    }
    const returnBool = node.getChild('BoolModifier') !== null;
    if (returnBool && !isComparison(op)) this.fail(opNode, 'bool modifier can only be used on comparison operators');
    if (isComparison(op) && !returnBool && lhs.type === 'scalar' && rhs.type === 'scalar')
      this.fail(opNode, 'comparisons between scalars must use the bool modifier');
    const matching = this.matching(node, lhs.type === 'vector' && rhs.type === 'vector');
    const type = lhs.type === 'vector' || rhs.type === 'vector' ? 'vector' : 'scalar';
    return { expr: { kind: 'binary', op, lhs: lhs.expr, rhs: rhs.expr, returnBool, matching }, type };
  }

  private matching(node: SyntaxNode, vectors: boolean): VectorMatching {
    const clause = node.getChild('MatchingModifierClause');
    if (clause === null) return { on: false, labels: [], card: 'one-to-one', include: [] };
    if (!vectors) this.fail(clause, 'vector matching only allowed between instant vectors');
    if (clause.getChild('FillModifier') !== null) this.fail(clause, 'fill modifiers are not supported');
    const [matchLabels, includeLabels] = clause.getChildren('GroupingLabels');
    const card = clause.getChild('GroupLeft')
      ? 'many-to-one'
      : clause.getChild('GroupRight')
        ? 'one-to-many'
        : 'one-to-one';
    const matching: VectorMatching = {
      on: clause.getChild('On') !== null,
      labels: this.labelList(matchLabels ?? null),
      card,
      include: this.labelList(includeLabels ?? null),
    };
    const overlap = matching.on ? matching.include.find((label) => matching.labels.includes(label)) : undefined;
    if (overlap !== undefined) this.fail(clause, `label "${overlap}" must not occur in ON and GROUP clause at once`);
    return matching;
  }

  private unary(node: SyntaxNode): Typed {
    const operand = exprChildren(node)[0] ?? this.fail(node, 'a sign needs an operand');
    const typed = this.read(operand);
    if (typed.type !== 'scalar' && typed.type !== 'vector')
      this.fail(node, `unary expressions take scalars and instant vectors, got a ${typed.type}`);
    const negative = this.text(node.getChild('UnaryOp') ?? node).startsWith('-');
    return negative ? { expr: { kind: 'negate', arg: typed.expr }, type: typed.type } : typed;
  }
}

const EXPR_NODES = new Set([
  'ParenExpr',
  'NumberDurationLiteral',
  'StringLiteral',
  'VectorSelector',
  'MatrixSelector',
  'FunctionCall',
  'AggregateExpr',
  'BinaryExpr',
  'UnaryExpr',
  ...Object.keys(UNSUPPORTED_NODES),
]);

function childList(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let child = node.firstChild; child !== null; child = child.nextSibling) out.push(child);
  return out;
}

function exprChildren(node: SyntaxNode): SyntaxNode[] {
  return childList(node).filter((child) => EXPR_NODES.has(child.name));
}

function firstError(node: SyntaxNode): SyntaxNode | undefined {
  if (node.type.isError) return node;
  for (const child of childList(node)) {
    const found = firstError(child);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Parses a query; throws InvalidSpecError with line:column for syntax errors and unsupported PromQL. */
export function parsePromql(query: string): ParsedQuery {
  const reader = new Reader(query);
  const top = parser.parse(query).topNode;
  const error = firstError(top);
  if (error !== undefined) {
    const near = query.slice(error.from, error.from + 20).trim();
    reader.fail(error, `syntax error${near === '' ? ' at the end of the query' : ` near ${JSON.stringify(near)}`}`);
  }
  const root = exprChildren(top);
  if (root.length !== 1) reader.fail(top, 'expected exactly one expression');
  try {
    return reader.read(root[0] ?? top);
  } catch (error) {
    if (error instanceof RangeError) reader.fail(top, 'the query nests too deeply');
    throw error;
  }
}
