import { CORE_SCHEMA, loadAll, Type, YAMLException } from 'js-yaml';
import { ConfigError } from '../errors.js';
import { MAX_YAML_DEPTH, MAX_YAML_SIZE_BYTES, SizeBudget } from './yaml-limits.js';

const MIB = `${MAX_YAML_SIZE_BYTES / 1024 / 1024} MiB`;

/** Where a value came from, for errors a user can jump to. */
export interface SourceLocation {
  readonly file: string;
  readonly line: number;
}

/** Something wrong with the config, where it is written. */
export interface CiProblem {
  readonly message: string;
  readonly location: SourceLocation;
}

export function formatLocation(location: SourceLocation): string {
  return `${location.file}:${location.line}`;
}

/** A `!reference [job, key, …]` tag, resolved once every included file is merged. */
export class ReferenceTag {
  constructor(
    readonly path: readonly string[],
    public location: SourceLocation,
  ) {}
}

export type CiValue = string | number | boolean | null | ReferenceTag | CiValue[] | CiMap;
export interface CiMap {
  [key: string]: CiValue;
}

/** A parsed CI file: its value, and the lines its top-level keys and their keys are written on. */
export interface CiFile {
  readonly file: string;
  readonly value: CiMap;
  /**
   * The header document, when the file starts with one: a first YAML document with `spec:`,
   * then `---` and the configuration (https://docs.gitlab.com/ci/yaml/#header-keywords).
   */
  readonly header: CiMap | undefined;
  /** Whether the text writes `!reference` (only then is the config walked to resolve them). */
  readonly hasReferences: boolean;
  /** The line of an input's name under the header's `spec:inputs`. */
  inputLine(name: string): number | undefined;
  /** The line of a top-level key (a job or a global keyword). */
  topLine(key: string): number | undefined;
  /** The line of `key` written directly under the top-level key `parent`. */
  childLine(parent: string, key: string): number | undefined;
  /** The first line at or after `from` that contains `needle`. */
  lineContaining(needle: string, from: number): number | undefined;
}

export function isCiMap(value: unknown): value is CiMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof ReferenceTag);
}

/**
 * YAML's `<<` merge key (the loader merges any key resolved to this tag). The core schema has
 * no timestamps or binary, which a CI file never means; resolving every scalar as a possible
 * timestamp was a tenth of the parse.
 */
const MERGE_KEY = new Type('tag:yaml.org,2002:merge', {
  kind: 'scalar',
  resolve: (data: unknown) => data === '<<' || data === null,
});

interface KeyLine {
  readonly indent: number;
  readonly key: string;
  readonly line: number;
}

/** Every `key:` that starts a line of block-style YAML, with its indentation and 1-based line. */
function indexKeys(text: string): KeyLine[] {
  const out: KeyLine[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index += 1) {
    const match = /^( *)(?:- +)?(?:"([^"]+)"|'([^']+)'|([^\s#'"][^:#]*?)) *:(?: |$)/.exec(lines[index] ?? '');
    if (match === null) continue;
    const indent = (match[1] ?? '').length + (match[0].trimStart().startsWith('-') ? 2 : 0);
    out.push({ indent, key: match[2] ?? match[3] ?? match[4] ?? '', line: index + 1 });
  }
  return out;
}

/**
 * Parses one CI YAML file as GitLab reads it: anchors and aliases, `<<` merge keys (keys written
 * in the map win over merged ones), duplicate keys (the last wins) and the `!reference` tag.
 * js-yaml does the parsing (several times faster than a document-model parser on a large
 * config); lines come from a one-pass index of the block-style keys. GitLab's size and depth
 * limits apply to the text and to the parsed value with its aliases expanded (yaml-limits.ts).
 */
export function parseCiYaml(text: string, file: string): CiFile {
  if (text.length > MAX_YAML_SIZE_BYTES)
    throw new ConfigError(`${file}:1: the file is larger than ${MIB} (GitLab's max_yaml_size_bytes)`, {
      code: 'CI_YAML_TOO_BIG',
    });
  const references: ReferenceTag[] = [];
  const referenceType = new Type('!reference', {
    kind: 'sequence',
    construct: (data: unknown[] | null) => {
      const tag = new ReferenceTag((data ?? []).map(String), { file, line: 0 });
      references.push(tag);
      return tag;
    },
  });
  const schema = CORE_SCHEMA.extend({ implicit: [MERGE_KEY], explicit: [referenceType] });
  const opened: number[] = [];
  let documents: unknown[];
  try {
    documents = loadAll(text, null, {
      filename: file,
      schema,
      json: true,
      // Lines for !reference tags; the listener costs a tenth of the parse, so only when needed.
      ...(text.includes('!reference')
        ? {
            listener(event: 'open' | 'close', state: { line: number; result: unknown }) {
              if (event === 'open') opened.push(state.line);
              else {
                const line = opened.pop() ?? state.line;
                if (state.result instanceof ReferenceTag && state.result.location.line === 0)
                  state.result.location = { file, line: line + 1 };
              }
            },
          }
        : {}),
    });
  } catch (error) {
    if (!(error instanceof YAMLException)) throw error;
    throw new ConfigError(`${file}:${error.mark.line + 1}: ${error.reason}`, { code: 'CI_YAML_INVALID', cause: error });
  }
  const { header, content } = splitDocuments(documents, file);
  let value: unknown = content;
  if (value === undefined || value === null) value = {};
  if (!isCiMap(value))
    throw new ConfigError(`${file}:1: the file must be a map of keywords and jobs`, { code: 'CI_YAML_INVALID' });
  // The line index is built on the first question: a plan without errors never needs it.
  let index: { keys: KeyLine[]; lines: string[]; top: Map<string, number> } | undefined;
  const indexed = () => {
    if (index === undefined) {
      const keys = indexKeys(text);
      const top = new Map<string, number>();
      for (const [position, entry] of keys.entries()) if (entry.indent === 0) top.set(entry.key, position);
      index = { keys, lines: text.split('\n'), top };
    }
    return index;
  };
  const parsed: CiFile = {
    file,
    value,
    header,
    hasReferences: text.includes('!reference'),
    inputLine: (name) => inputLine(indexed().keys, name),
    topLine: (key) => {
      const { keys, top } = indexed();
      const position = top.get(key);
      return position === undefined ? undefined : keys[position]?.line;
    },
    lineContaining: (needle, from) => {
      const { lines } = indexed();
      for (let index = Math.max(0, from - 1); index < lines.length; index += 1)
        if (lines[index]?.includes(needle)) return index + 1;
      return undefined;
    },
    childLine: (parent, key) => {
      const { keys, top } = indexed();
      const start = top.get(parent);
      if (start === undefined) return undefined;
      const childIndent = keys[start + 1]?.indent ?? 0;
      if (childIndent === 0) return undefined;
      for (let position = start + 1; position < keys.length; position += 1) {
        const entry = keys[position];
        if (entry === undefined || entry.indent < childIndent) return undefined;
        if (entry.indent === childIndent && entry.key === key) return entry.line;
      }
      return undefined;
    },
  };
  checkDeepSize(parsed);
  return parsed;
}

/**
 * GitLab's Yaml::Documents: at most two documents, empty ones dropped; a first document that is a
 * map with `spec` is the header and the last one the configuration, else the first document is
 * the configuration.
 */
function splitDocuments(documents: unknown[], file: string): { header: CiMap | undefined; content: unknown } {
  const present = documents.filter((document) => document !== null && document !== undefined);
  if (present.length > 2)
    throw new ConfigError(`${file}:1: the file has ${present.length} YAML documents; GitLab reads at most 2`, {
      code: 'CI_YAML_INVALID',
      hint: 'a file is a spec: header, ---, then the configuration, or just the configuration',
    });
  const [first, second] = present;
  if (present.length === 2 && isCiMap(first) && 'spec' in first) return { header: first, content: second };
  return { header: undefined, content: first };
}

/** The line of `name` under the first top-level `spec:` key's `inputs:`. */
function inputLine(keys: readonly KeyLine[], name: string): number | undefined {
  const spec = keys.findIndex((entry) => entry.indent === 0 && entry.key === 'spec');
  let inputs: KeyLine | undefined;
  for (let position = spec + 1; spec >= 0 && position < keys.length; position += 1) {
    const entry = keys[position];
    if (entry === undefined || entry.indent === 0) return undefined;
    if (inputs === undefined && entry.key === 'inputs') inputs = entry;
    else if (inputs !== undefined && entry.indent > inputs.indent && entry.key === name) return entry.line;
  }
  return undefined;
}

/** Refuses a file whose value, aliases expanded, passes GitLab's size or depth, at the top-level key where it does. */
function checkDeepSize(parsed: CiFile): void {
  const budget = new SizeBudget();
  const entries = Object.entries(parsed.value);
  if (parsed.header !== undefined) entries.unshift(['spec', parsed.header.spec ?? null]);
  for (const [key, item] of entries) {
    const verdict = budget.take(key) ? budget.walk(item, 1) : 'too big';
    if (verdict === undefined) continue;
    const why =
      verdict === 'too big'
        ? `more than ${MIB} once its aliases are expanded (GitLab's max_yaml_size_bytes)`
        : `nested deeper than ${MAX_YAML_DEPTH} levels once its aliases are expanded (GitLab's max_yaml_depth)`;
    throw new ConfigError(`${parsed.file}:${parsed.topLine(key) ?? 1}: ${key}: the parsed YAML is ${verdict}: ${why}`, {
      code: 'CI_YAML_TOO_BIG',
      hint: 'an anchor used many times inside anchors that are themselves used many times multiplies; write less of it',
    });
  }
}
