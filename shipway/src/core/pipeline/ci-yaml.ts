import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { ConfigError } from '../errors.js';

/** Where a value came from, for errors a user can jump to. */
export interface SourceLocation {
  readonly file: string;
  readonly line: number;
}

export function formatLocation(location: SourceLocation): string {
  return `${location.file}:${location.line}`;
}

/** A `!reference [job, key, …]` tag, resolved once every included file is merged. */
export class ReferenceTag {
  constructor(
    readonly path: readonly string[],
    readonly location: SourceLocation,
  ) {}
}

export type CiValue = string | number | boolean | null | ReferenceTag | CiValue[] | CiMap;
export interface CiMap {
  [key: string]: CiValue;
}

/** A parsed CI file: its value, and the line of every map and of every key in it. */
export interface CiFile {
  readonly file: string;
  readonly value: CiMap;
  /** The line of `key` in `map` (or of the map itself), if `map` came from this file. */
  lineOf(map: object, key?: string): number | undefined;
}

export function isCiMap(value: unknown): value is CiMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof ReferenceTag);
}

/**
 * Parses one CI YAML file the way GitLab reads it: anchors and aliases, `<<` merge keys (keys
 * written in the map win over merged ones, earlier merge sources over later ones) and the
 * `!reference` tag, keeping line numbers so later errors can point at the source.
 */
export function parseCiYaml(text: string, file: string): CiFile {
  const counter = new LineCounter();
  const document = parseDocument(text, { lineCounter: counter, uniqueKeys: false, prettyErrors: false });
  const syntax = document.errors[0];
  if (syntax !== undefined) {
    const line = counter.linePos(syntax.pos[0]).line;
    throw new ConfigError(`${file}:${line}: ${syntax.message.split('\n')[0]}`, { code: 'CI_YAML_INVALID' });
  }
  const mapLines = new WeakMap<object, number>();
  const keyLines = new WeakMap<object, Map<string, number>>();
  const lineAt = (node: { range?: readonly number[] | null | undefined } | null | undefined): number =>
    node?.range ? counter.linePos(node.range[0] ?? 0).line : 0;

  const convert = (node: unknown, depth: number): CiValue => {
    if (depth > 200)
      throw new ConfigError(`${file}: aliases nest too deep (a recursive anchor?)`, { code: 'CI_YAML_INVALID' });
    if (isAlias(node)) return convert(node.resolve(document), depth + 1);
    if (isScalar(node)) return scalarValue(node.value);
    if (isSeq(node)) {
      const items = node.items.map((item) => convert(item, depth + 1));
      if (node.tag === '!reference')
        return new ReferenceTag(
          items.map((item) => String(item)),
          { file, line: lineAt(node) },
        );
      mapLines.set(items, lineAt(node));
      return items;
    }
    if (isMap(node)) {
      const map: CiMap = {};
      const lines = new Map<string, number>();
      const merged: CiMap[] = [];
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        if (key === '<<' && (isAlias(pair.value) || isSeq(pair.value) || isMap(pair.value))) {
          const sources = isSeq(pair.value) ? pair.value.items : [pair.value];
          for (const source of sources) {
            const value = convert(source, depth + 1);
            if (isCiMap(value)) merged.push(value);
          }
          continue;
        }
        map[key] = convert(pair.value, depth + 1);
        lines.set(key, lineAt(pair.key as Node));
      }
      for (const source of merged)
        for (const [key, value] of Object.entries(source)) {
          if (key in map) continue;
          map[key] = value;
          const line = keyLines.get(source)?.get(key);
          if (line !== undefined) lines.set(key, line);
        }
      mapLines.set(map, lineAt(node));
      keyLines.set(map, lines);
      return map;
    }
    return null;
  };

  const value = document.contents === null ? {} : convert(document.contents, 0);
  if (!isCiMap(value))
    throw new ConfigError(`${file}:1: the file must be a map of keywords and jobs`, { code: 'CI_YAML_INVALID' });
  return {
    file,
    value,
    lineOf: (map, key) => (key === undefined ? undefined : keyLines.get(map)?.get(key)) ?? mapLines.get(map),
  };
}

function scalarValue(value: unknown): CiValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  return String(value);
}
