import type { SyntaxNode } from '@lezer/common';
import type { LabelMatcher, MatchType } from './promql-ast.js';
import { unquoteString } from './promql-literals.js';
import { compilePromRegex, RegexSyntaxError } from './promql-regex.js';

/** What reading a selector needs from the query reader: a node's text, and a positioned failure. */
export interface PromqlReader {
  text(node: SyntaxNode): string;
  fail(node: { from: number }, message: string): never;
}

const MATCH_OPS: Readonly<Record<string, MatchType>> = {
  EqlSingle: '=',
  Neq: '!=',
  EqlRegex: '=~',
  NeqRegex: '!~',
};

function stringOf(reader: PromqlReader, node: SyntaxNode | null, what: string): string {
  const value = node === null ? undefined : unquoteString(reader.text(node));
  if (node === null || value === undefined) return reader.fail(node ?? { from: 0 }, `cannot read the ${what}`);
  return value;
}

function readMatcher(reader: PromqlReader, node: SyntaxNode): LabelMatcher {
  const nameNode = node.getChild('LabelName') ?? node.getChild('QuotedLabelName');
  const name =
    nameNode?.name === 'LabelName'
      ? reader.text(nameNode)
      : stringOf(reader, nameNode?.getChild('StringLiteral') ?? null, 'label name');
  const opNode = node.getChild('MatchOp')?.firstChild;
  const type = MATCH_OPS[opNode?.name ?? ''];
  if (type === undefined) return reader.fail(node, 'a label matcher needs =, !=, =~ or !~');
  const valueNode = node.getChildren('StringLiteral').at(-1) ?? null;
  const value = stringOf(reader, valueNode, 'label value');
  if (type === '=' || type === '!=') return { name, type, value };
  try {
    return { name, type, value, regex: compilePromRegex(value) };
  } catch (error) {
    const reason = error instanceof RegexSyntaxError ? error.message : String(error);
    return reader.fail(valueNode ?? node, `the regex ${JSON.stringify(value)} cannot be used: ${reason}`);
  }
}

export function matchesValue(matcher: LabelMatcher, value: string): boolean {
  switch (matcher.type) {
    case '=':
      return value === matcher.value;
    case '!=':
      return value !== matcher.value;
    case '=~':
      return matcher.regex?.test(value) === true;
    case '!~':
      return matcher.regex?.test(value) !== true;
  }
}

/**
 * A selector's matchers, the metric name as a `__name__` matcher first. As in Prometheus'
 * parser, at least one matcher must not match the empty string (`{a=~".*"}` alone would
 * select every series).
 */
export function readSelector(reader: PromqlReader, node: SyntaxNode): LabelMatcher[] {
  const matchers: LabelMatcher[] = [];
  const identifier = node.getChild('Identifier');
  if (identifier !== null) matchers.push({ name: '__name__', type: '=', value: reader.text(identifier) });
  const list = node.getChild('LabelMatchers');
  for (let child = list?.firstChild ?? null; child !== null; child = child.nextSibling) {
    if (child.name === 'QuotedLabelName') {
      if (matchers.some((matcher) => matcher.name === '__name__' && matcher.type === '='))
        reader.fail(child, 'the metric name must not be set twice');
      matchers.push({ name: '__name__', type: '=', value: stringOf(reader, child.getChild('StringLiteral'), 'name') });
    } else if (child.name === 'UnquotedLabelMatcher' || child.name === 'QuotedLabelMatcher') {
      matchers.push(readMatcher(reader, child));
    }
  }
  if (!matchers.some((matcher) => !matchesValue(matcher, '')))
    reader.fail(node, 'a vector selector must contain at least one non-empty matcher');
  return matchers;
}
