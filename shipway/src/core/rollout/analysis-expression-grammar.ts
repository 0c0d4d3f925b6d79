import {
  BINARY,
  ExpressionSyntaxError,
  FUNCTIONS,
  type Node,
  PREDICATES,
  type Token,
  tokenize,
  UNARY,
  VARIABLES,
} from './analysis-expression-parser.js';

/** Recursive descent over expr's grammar; `depth` > 0 inside a predicate, where `#` and `.x` are allowed. */
class Parser {
  private position = 0;
  private depth = 0;

  constructor(
    private readonly text: string,
    private readonly tokens: Token[],
  ) {}

  private peek(): Token | undefined {
    return this.tokens[this.position];
  }

  private is(value: string): boolean {
    const token = this.peek();
    return token !== undefined && (token.kind === 'op' || token.kind === 'id') && token.value === value;
  }

  fail(message: string, token = this.peek()): never {
    const where = token === undefined ? 'at the end' : `at column ${token.at + 1}`;
    throw new ExpressionSyntaxError(`${message} ${where} of ${JSON.stringify(this.text)}`);
  }

  private expect(value: string): void {
    if (!this.is(value)) this.fail(`expected ${value}`);
    this.position += 1;
  }

  parse(): Node {
    const node = this.expression(0);
    if (this.peek() !== undefined) this.fail(`unexpected ${this.peek()?.value}`);
    return node;
  }

  expression(precedence: number): Node {
    let left = this.primary();
    for (;;) {
      let token = this.peek();
      let negate = false;
      if (token?.kind === 'op' && token.value === 'not' && this.tokens[this.position + 1]?.value === 'in') {
        negate = true;
        this.position += 1;
        token = this.peek();
      }
      const op = token?.kind === 'op' ? BINARY[token.value] : undefined;
      if (token === undefined || op === undefined || op.prec < precedence) {
        if (negate) this.fail('expected in after not');
        break;
      }
      this.position += 1;
      const right = this.expression(op.right ? op.prec : op.prec + 1);
      left = { k: 'binary', op: token.value, l: left, r: right };
      if (negate) left = { k: 'unary', op: 'not', arg: left };
    }
    if (precedence === 0 && this.is('?')) {
      this.position += 1;
      const yes = this.expression(0);
      this.expect(':');
      return { k: 'cond', test: left, yes, no: this.expression(0) };
    }
    return left;
  }

  private primary(): Node {
    const token = this.peek() ?? this.fail('expected an operand');
    const unary = token.kind === 'op' ? UNARY[token.value] : undefined;
    if (unary !== undefined) {
      this.position += 1;
      return this.postfix({ k: 'unary', op: token.value, arg: this.expression(unary) });
    }
    if (this.is('(')) {
      this.position += 1;
      const inner = this.expression(0);
      this.expect(')');
      return this.postfix(inner);
    }
    if (this.is('#') || this.is('.')) {
      if (this.depth === 0) this.fail('cannot use pointer accessor outside closure');
      if (this.is('#')) this.position += 1;
      return this.postfix({ k: 'pointer' });
    }
    return this.postfix(this.secondary(token));
  }

  private secondary(token: Token): Node {
    this.position += 1;
    if (token.kind === 'num' || token.kind === 'str') return { k: 'lit', v: token.literal };
    if (token.kind === 'op' && token.value === '[') return { k: 'array', items: this.list(']') };
    if (token.kind !== 'id') this.fail(`unexpected ${token.value}`, token);
    if (token.value === 'true' || token.value === 'false') return { k: 'lit', v: token.value === 'true' };
    if (token.value === 'nil') return { k: 'lit', v: null };
    if (this.is('(')) return this.call(token);
    if (!VARIABLES.has(token.value)) this.fail(`unknown name ${token.value}`, token);
    return { k: 'id', name: token.value };
  }

  private call(token: Token): Node {
    this.position += 1;
    if (FUNCTIONS.has(token.value)) return { k: 'call', fn: token.value, args: this.list(')') };
    if (!PREDICATES.has(token.value)) this.fail(`unknown function ${token.value}()`, token);
    const array = this.expression(0);
    this.expect(',');
    this.depth += 1;
    let predicate: Node;
    if (this.is('{')) {
      this.position += 1;
      predicate = this.expression(0);
      this.expect('}');
    } else predicate = this.expression(0);
    this.depth -= 1;
    this.expect(')');
    return { k: 'call', fn: token.value, args: [array, predicate] };
  }

  private list(close: string): Node[] {
    const items: Node[] = [];
    while (!this.is(close)) {
      items.push(this.expression(0));
      if (!this.is(close)) this.expect(',');
    }
    this.position += 1;
    return items;
  }

  private postfix(node: Node): Node {
    for (;;) {
      if (this.is('.') || this.is('?.')) {
        const optional = this.is('?.');
        this.position += 1;
        const name = this.peek();
        if (name?.kind !== 'id' && name?.kind !== 'op') this.fail('expected a field name');
        this.position += 1;
        node = { k: 'member', obj: node, prop: { k: 'lit', v: name.value }, optional };
      } else if (this.is('[')) {
        this.position += 1;
        const prop = this.expression(0);
        this.expect(']');
        node = { k: 'member', obj: node, prop, optional: false };
      } else return node;
    }
  }
}

/** Parses a successCondition / failureCondition; ExpressionSyntaxError says what and where. */
export function parseCondition(text: string): Node {
  try {
    return new Parser(text, tokenize(text)).parse();
  } catch (error) {
    if (error instanceof RangeError)
      throw new ExpressionSyntaxError(`the condition nests too deeply: ${JSON.stringify(text.slice(0, 40))}…`);
    throw error;
  }
}
