import { CORE_SCHEMA, loadAll, Type, YAMLException } from 'js-yaml';
import { ConfigError } from '../errors.js';
import { MAX_YAML_DEPTH, MAX_YAML_SIZE_BYTES, SizeBudget } from './yaml-limits.js';
import { type LineLookup, lineLookup } from './yaml-line-index.js';

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
export interface CiFile extends LineLookup {
  readonly file: string;
  readonly value: CiMap;
  /**
   * The header document, when the file starts with one: a first YAML document with `spec:`,
   * then `---` and the configuration (https://docs.gitlab.com/ci/yaml/#header-keywords).
   */
  readonly header: CiMap | undefined;
  /** Whether the text writes `!reference` (only then is the config walked to resolve them). */
  readonly hasReferences: boolean;
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

/**
 * Parses one CI YAML file as GitLab reads it: anchors and aliases, `<<` merge keys (keys written
 * in the map win over merged ones), duplicate keys (the last wins) and the `!reference` tag.
 * js-yaml does the parsing (several times faster than a document-model parser on a large
 * config); lines come from a one-pass index of the block-style keys. GitLab's size and depth
 * limits apply to the text and to the parsed value with its aliases expanded (yaml-limits.ts).
 */
export function parseCiYaml(text: string, file: string): CiFile {
  if (text.length > MAX_YAML_SIZE_BYTES)
    throw new ConfigError(
      'CI_YAML_TOO_BIG',
      `${file}:1: the file is larger than ${MIB} (GitLab's max_yaml_size_bytes)`,
    );
  const { header, content } = splitDocuments(loadDocuments(text, file), file);
  let value: unknown = content;
  if (value === undefined || value === null) value = {};
  if (!isCiMap(value))
    throw new ConfigError('CI_YAML_INVALID', `${file}:1: the file must be a map of keywords and jobs`);
  const parsed: CiFile = { file, value, header, hasReferences: text.includes('!reference'), ...lineLookup(text) };
  checkDeepSize(parsed);
  return parsed;
}

/** Every YAML document of the text, `!reference` tags as ReferenceTags with their lines. */
function loadDocuments(text: string, file: string): unknown[] {
  const referenceType = new Type('!reference', {
    kind: 'sequence',
    construct: (data: unknown[] | null) => new ReferenceTag((data ?? []).map(String), { file, line: 0 }),
  });
  const schema = CORE_SCHEMA.extend({ implicit: [MERGE_KEY], explicit: [referenceType] });
  const opened: number[] = [];
  try {
    return loadAll(text, null, {
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
    throw new ConfigError('CI_YAML_INVALID', `${file}:${error.mark.line + 1}: ${error.reason}`, { cause: error });
  }
}

/**
 * GitLab's Yaml::Documents: at most two documents, empty ones dropped; a first document that is a
 * map with `spec` is the header and the last one the configuration, else the first document is
 * the configuration.
 */
function splitDocuments(documents: unknown[], file: string): { header: CiMap | undefined; content: unknown } {
  const present = documents.filter((document) => document !== null && document !== undefined);
  if (present.length > 2)
    throw new ConfigError(
      'CI_YAML_INVALID',
      `${file}:1: the file has ${present.length} YAML documents; GitLab reads at most 2`,
      { hint: 'a file is a spec: header, ---, then the configuration, or just the configuration' },
    );
  const [first, second] = present;
  if (present.length === 2 && isCiMap(first) && 'spec' in first) return { header: first, content: second };
  return { header: undefined, content: first };
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
    throw new ConfigError(
      'CI_YAML_TOO_BIG',
      `${parsed.file}:${parsed.topLine(key) ?? 1}: ${key}: the parsed YAML is ${verdict}: ${why}`,
      {
        hint: 'an anchor used many times inside anchors that are themselves used many times multiplies; write less of it',
      },
    );
  }
}
