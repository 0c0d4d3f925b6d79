/**
 * A small evaluator for the subset of the expr language Argo Rollouts' AnalysisTemplates use in
 * successCondition / failureCondition: `result[0] <= 0.01`, `len(result) == 0`,
 * `isNaN(result[0])`, `&&`, `||`, `!`, parentheses, comparisons, numbers and `true`/`false`.
 */
type Token = { kind: 'num'; value: number } | { kind: 'id'; value: string } | { kind: 'op'; value: string };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const pattern = /\s*(?:(\d+(?:\.\d+)?(?:e[+-]?\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(&&|\|\||==|!=|<=|>=|[<>!()[\],]))/gy;
  let at = 0;
  while (at < text.length) {
    const match = pattern.exec(text);
    if (match === null) break;
    if (match[1] !== undefined) tokens.push({ kind: 'num', value: Number(match[1]) });
    else if (match[2] !== undefined) tokens.push({ kind: 'id', value: match[2] });
    else tokens.push({ kind: 'op', value: match[3] ?? '' });
    at = pattern.lastIndex;
  }
  if (text.slice(at).trim() !== '') throw new Error(`cannot read ${JSON.stringify(text.slice(at).trim())}`);
  return tokens;
}

type Value = number | boolean | number[];

export function evaluateCondition(expression: string, result: readonly number[]): boolean {
  const tokens = tokenize(expression);
  let position = 0;
  const peek = () => tokens[position];
  const take = (op?: string): Token => {
    const token = tokens[position];
    if (token === undefined || (op !== undefined && !(token.kind === 'op' && token.value === op)))
      throw new Error(`expected ${op ?? 'more'} in ${expression}`);
    position += 1;
    return token;
  };
  const isOp = (value: string) => peek()?.kind === 'op' && peek()?.value === value;

  const primary = (): Value => {
    const token = take();
    if (token.kind === 'num') return token.value;
    if (token.kind === 'op' && token.value === '(') {
      const inner = or();
      take(')');
      return inner;
    }
    if (token.kind === 'op' && token.value === '!') return !truthy(primary());
    if (token.kind === 'id') {
      if (token.value === 'true' || token.value === 'false') return token.value === 'true';
      if (token.value === 'result') {
        if (!isOp('[')) return [...result];
        take('[');
        const index = Number(or());
        take(']');
        return result[index] ?? Number.NaN;
      }
      if (token.value === 'len' || token.value === 'isNaN') {
        take('(');
        const argument = or();
        take(')');
        return token.value === 'len' ? (Array.isArray(argument) ? argument.length : 0) : Number.isNaN(Number(argument));
      }
    }
    throw new Error(`unsupported ${token.kind} ${String(token.value)} in ${expression}`);
  };
  const comparison = (): Value => {
    const left = primary();
    const token = peek();
    if (token?.kind === 'op' && ['==', '!=', '<', '>', '<=', '>='].includes(token.value)) {
      take();
      const right = primary();
      const [a, b] = [Number(left), Number(right)];
      return { '==': a === b, '!=': a !== b, '<': a < b, '>': a > b, '<=': a <= b, '>=': a >= b }[token.value] ?? false;
    }
    return left;
  };
  const and = (): Value => {
    let value = comparison();
    while (isOp('&&')) {
      take();
      const right = comparison();
      value = truthy(value) && truthy(right);
    }
    return value;
  };
  const or = (): Value => {
    let value = and();
    while (isOp('||')) {
      take();
      const right = and();
      value = truthy(value) || truthy(right);
    }
    return value;
  };
  const value = or();
  if (position !== tokens.length) throw new Error(`unexpected input after position ${position} in ${expression}`);
  return truthy(value);
}

function truthy(value: Value): boolean {
  return Array.isArray(value) ? value.length > 0 : Boolean(value);
}
