import { InvalidSpecError } from './invalid-spec.js';

/**
 * The part of Kubernetes' JSONPath (k8s.io/client-go/util/jsonpath, which Argo's web provider
 * uses) that web metrics use: one `{...}` template of `$`, `.field`, `['field']`, `[n]` (negative
 * counts from the end) and `[*]`. Filters `?()`, slices `[a:b]`, recursive descent `..`, unions
 * and `range` are refused as InvalidSpec rather than read differently.
 */
export type PathStep = { readonly field: string } | { readonly index: number } | { readonly wildcard: true };

export function parseJsonPath(template: string): PathStep[] {
  const path = template === '' ? '{$}' : template;
  const body = /^\{(.*)\}$/s.exec(path.trim())?.[1];
  if (body === undefined || body.includes('{'))
    throw new InvalidSpecError(`jsonPath ${JSON.stringify(template)}: only one {…} expression is supported`);
  const steps: PathStep[] = [];
  let rest = body.trim().replace(/^\$/, '');
  const unsupported = (what: string) =>
    new InvalidSpecError(`jsonPath ${JSON.stringify(template)}: ${what} is not supported`);
  const readers: [RegExp, (match: RegExpExecArray) => PathStep][] = [
    [/^\.([A-Za-z0-9_-]+)/, (match) => ({ field: match[1] ?? '' })],
    [/^\[\*\]|^\.\*/, () => ({ wildcard: true })],
    [/^\[(-?\d+)\]/, (match) => ({ index: Number(match[1]) })],
    [/^\['([^']*)'\]|^\["([^"]*)"\]/, (match) => ({ field: match[1] ?? match[2] ?? '' })],
  ];
  while (rest !== '') {
    if (rest.startsWith('..')) throw unsupported('recursive descent (..)');
    if (rest.startsWith('[?')) throw unsupported('a filter');
    if (/^\[[^\]]*[:,]/.test(rest)) throw unsupported('a slice or union');
    const found = readers
      .map(([pattern, read]) => [pattern.exec(rest), read] as const)
      .find(([match]) => match !== null);
    const match = found?.[0];
    if (found === undefined || match === null || match === undefined) throw unsupported(JSON.stringify(rest));
    steps.push(found[1](match));
    rest = rest.slice(match[0].length);
  }
  return steps;
}

export class JsonPathError extends Error {}

/** The values a path finds; a missing field is an error, as with allowMissingKeys false. */
export function findJsonPath(data: unknown, steps: readonly PathStep[]): unknown[] {
  let current: unknown[] = [data];
  for (const step of steps) {
    const next: unknown[] = [];
    for (const value of current) {
      if ('wildcard' in step) {
        if (Array.isArray(value)) next.push(...value);
        else if (value !== null && typeof value === 'object') next.push(...Object.values(value));
      } else if ('index' in step) {
        if (!Array.isArray(value)) throw new JsonPathError(`${step.index} is not an array index of ${typeof value}`);
        const index = step.index < 0 ? value.length + step.index : step.index;
        if (index < 0 || index >= value.length)
          throw new JsonPathError(`array index out of bounds: index ${step.index}, length ${value.length}`);
        next.push(value[index]);
      } else {
        if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, step.field))
          throw new JsonPathError(`${step.field} is not found`);
        next.push((value as Record<string, unknown>)[step.field]);
      }
    }
    current = next;
  }
  return current;
}
