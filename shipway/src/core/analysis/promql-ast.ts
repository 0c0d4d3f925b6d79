/** The PromQL subset shipway evaluates, as plain data (parse-promql.ts builds it). */
export type MatchType = '=' | '!=' | '=~' | '!~';

export interface LabelMatcher {
  readonly name: string;
  readonly type: MatchType;
  readonly value: string;
  /** For =~ and !~: the RE2 pattern, fully anchored, compiled once. */
  readonly regex?: RegExp;
}

export type ValueType = 'scalar' | 'vector' | 'matrix' | 'string';

export type AggregateOp = 'sum' | 'avg' | 'min' | 'max' | 'count';
export type ArithmeticOp = '+' | '-' | '*' | '/' | '%' | '^';
export type ComparisonOp = '==' | '!=' | '>' | '<' | '>=' | '<=';
export type BinaryOp = ArithmeticOp | ComparisonOp;
export type FunctionName =
  | 'rate'
  | 'irate'
  | 'increase'
  | 'histogram_quantile'
  | 'vector'
  | 'scalar'
  | 'clamp_min'
  | 'clamp_max'
  | 'absent';

export interface VectorMatching {
  /** `on(...)` when true, `ignoring(...)` when false. */
  readonly on: boolean;
  readonly labels: readonly string[];
  readonly card: 'one-to-one' | 'many-to-one' | 'one-to-many';
  /** Labels copied from the "one" side (group_left(...) / group_right(...)). */
  readonly include: readonly string[];
}

export type Expr =
  | { readonly kind: 'number'; readonly value: number }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'selector'; readonly matchers: readonly LabelMatcher[] }
  | { readonly kind: 'matrix'; readonly matchers: readonly LabelMatcher[]; readonly rangeMs: number }
  | { readonly kind: 'call'; readonly fn: FunctionName; readonly args: readonly Expr[] }
  | {
      readonly kind: 'aggregate';
      readonly op: AggregateOp;
      readonly without: boolean;
      readonly grouping: readonly string[] | undefined;
      readonly arg: Expr;
    }
  | {
      readonly kind: 'binary';
      readonly op: BinaryOp;
      readonly lhs: Expr;
      readonly rhs: Expr;
      readonly returnBool: boolean;
      readonly matching: VectorMatching;
    }
  | { readonly kind: 'negate'; readonly arg: Expr };

export function isComparison(op: BinaryOp): op is ComparisonOp {
  return ['==', '!=', '>', '<', '>=', '<='].includes(op);
}
