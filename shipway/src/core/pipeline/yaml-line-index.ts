/** The lines keys are written on in a CI file, for errors a user can jump to. */
export interface LineLookup {
  /** The line of an input's name under the header's `spec:inputs`. */
  inputLine(name: string): number | undefined;
  /** The line of a top-level key (a job or a global keyword). */
  topLine(key: string): number | undefined;
  /** The line of `key` written directly under the top-level key `parent`. */
  childLine(parent: string, key: string): number | undefined;
  /** The first line at or after `from` that contains `needle`. */
  lineContaining(needle: string, from: number): number | undefined;
}

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
 * Line lookups over the text, from a one-pass index of its block-style keys. The index is built
 * on the first question: a plan without errors never needs it.
 */
export function lineLookup(text: string): LineLookup {
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
  return {
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
