/**
 * The Prometheus text exposition format 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/),
 * read the way Prometheus' own parser reads it (model/textparse/promparse.go): `# HELP` and
 * `# TYPE` lines, other comments ignored, samples `name{label="value",...} value [timestamp]`,
 * label values with \\, \" and \n escapes, values as Go floats (NaN, +Inf, -Inf), optional
 * integer millisecond timestamps, and the quoted UTF-8 names of newer exporters (`{"a.b"}`).
 * Histograms and summaries arrive as their flat `_bucket` / `_sum` / `_count` series, as
 * Prometheus stores them. A malformed line fails the whole scrape, as in Prometheus.
 */
export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface ExposedSample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  readonly timestampMs?: number;
}

export interface Exposition {
  readonly samples: readonly ExposedSample[];
  readonly types: ReadonlyMap<string, MetricType>;
}

export class ExpositionError extends Error {}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseValue(text: string): number | undefined {
  const special = /^([+-]?)(inf|infinity|nan)$/i.exec(text);
  if (special !== null) {
    if (special[2]?.toLowerCase() === 'nan') return Number.NaN;
    return special[1] === '-' ? -Infinity : Infinity;
  }
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text) || /^[+-]?0[xX][0-9a-fA-F]+$/.test(text))
    return Number(text.replace(/^\+/, ''));
  return undefined;
}

class LineReader {
  at = 0;
  constructor(
    readonly line: string,
    readonly number: number,
  ) {}

  fail(message: string): never {
    throw new ExpositionError(`line ${this.number}: ${message}: ${JSON.stringify(this.line.slice(0, 120))}`);
  }

  skipSpace(): void {
    while (this.line[this.at] === ' ' || this.line[this.at] === '\t') this.at += 1;
  }

  take(pattern: RegExp, what: string): string {
    const match = pattern.exec(this.line.slice(this.at));
    if (match === null) this.fail(`expected ${what}`);
    this.at += match[0].length;
    return match[0];
  }

  /** A double-quoted string; only \\, \" and \n are unescaped (promparse.go lvalReplacer). */
  quoted(): string {
    if (this.line[this.at] !== '"') this.fail('expected a quoted string');
    let out = '';
    for (this.at += 1; this.at < this.line.length; this.at += 1) {
      const char = this.line[this.at];
      if (char === '"') {
        this.at += 1;
        return out;
      }
      if (char !== '\\') {
        out += char;
        continue;
      }
      const next = this.line[this.at + 1] ?? this.fail('unterminated escape');
      out += next === 'n' ? '\n' : next === '\\' || next === '"' ? next : `\\${next}`;
      this.at += 1;
    }
    return this.fail('unterminated quoted string');
  }

  labelName(): string {
    return this.line[this.at] === '"' ? this.quoted() : this.take(LABEL_NAME, 'a label name');
  }
}

function readLabels(reader: LineReader, labels: Record<string, string>): void {
  reader.at += 1; // {
  for (;;) {
    reader.skipSpace();
    if (reader.line[reader.at] === '}') break;
    const start = reader.at;
    const name = reader.labelName();
    reader.skipSpace();
    if (reader.line[reader.at] !== '=' && reader.line[start] === '"' && labels.__name__ === undefined) {
      labels.__name__ = name; // {"quoted.metric.name", ...}
    } else {
      reader.take(/^=/, '=');
      reader.skipSpace();
      if (name in labels) reader.fail(`duplicate label ${name}`);
      labels[name] = reader.quoted();
    }
    reader.skipSpace();
    if (reader.line[reader.at] === ',') reader.at += 1;
    else if (reader.line[reader.at] !== '}') reader.fail('expected , or }');
  }
  reader.at += 1; // }
}

function readSample(line: string, number: number): ExposedSample {
  const reader: LineReader = new LineReader(line, number);
  const labels: Record<string, string> = {};
  if (line[0] !== '{') labels.__name__ = reader.take(NAME, 'a metric name');
  const afterName = reader.at;
  reader.skipSpace();
  if (line[reader.at] === '{') readLabels(reader, labels);
  else reader.at = afterName;
  if (labels.__name__ === undefined) reader.fail('a sample needs a metric name');
  const rest = line.slice(reader.at);
  if (!/^[ \t]/.test(rest)) reader.fail('expected a space before the value');
  const [valueText, timestampText, extra] = rest.trim().split(/[ \t]+/);
  const value = parseValue(valueText ?? '');
  if (value === undefined) reader.fail(`cannot read the value ${JSON.stringify(valueText)}`);
  if (extra !== undefined) reader.fail('unexpected text after the timestamp');
  if (timestampText === undefined) return { labels, value };
  if (!/^-?\d+$/.test(timestampText)) reader.fail(`cannot read the timestamp ${JSON.stringify(timestampText)}`);
  return { labels, value, timestampMs: Number(timestampText) };
}

function readComment(line: string, number: number, types: Map<string, MetricType>): void {
  const match = /^#[ \t]+(HELP|TYPE)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(line);
  if (match === null || match[1] === 'HELP') return;
  const [, , name = '', type = ''] = match;
  if (!TYPES.has(type.trim())) throw new ExpositionError(`line ${number}: unknown metric type ${JSON.stringify(type)}`);
  if (types.has(name)) throw new ExpositionError(`line ${number}: second TYPE line for ${name}`);
  types.set(name, type.trim() as MetricType);
}

export function parseExposition(text: string): Exposition {
  const samples: ExposedSample[] = [];
  const types = new Map<string, MetricType>();
  const lines = text.split('\n');
  for (const [index, raw] of lines.entries()) {
    const line = raw.replace(/\r$/, '').replace(/^[ \t]+/, '');
    if (line === '') continue;
    if (line.startsWith('#')) readComment(line, index + 1, types);
    else samples.push(readSample(line, index + 1));
  }
  return { samples, types };
}
