/**
 * PromQL literals as Prometheus reads them (promql/parser/parse.go, v3.9.1): numbers through
 * strconv.ParseInt(val, 0, 64) then strconv.ParseFloat, durations through model.ParseDuration,
 * strings through strconv.Unquote.
 */

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000,
};

/** `1h30m`, `30s`, `500ms` (units largest first, each once), or plain seconds; undefined otherwise. */
export function parseDurationMs(text: string): number | undefined {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const pattern = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
  const match = pattern.exec(text);
  if (match === null || text === '') return undefined;
  const units = ['y', 'w', 'd', 'h', 'm', 's', 'ms'];
  return units.reduce((total, unit, index) => total + Number(match[index + 1] ?? 0) * (UNIT_MS[unit] ?? 0), 0);
}

function parseGoInt(text: string): number | undefined {
  const match = /^([+-]?)(0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO][0-7]+|0[0-7]*|[1-9][0-9]*)$/.exec(text);
  if (match === null) return undefined;
  const [, sign, digits = ''] = match;
  let value: number;
  if (/^0[xXbBoO]/.test(digits)) value = Number(digits.toLowerCase());
  else if (digits.length > 1 && digits.startsWith('0')) value = Number.parseInt(digits, 8);
  else value = Number(digits);
  return sign === '-' ? -value : value;
}

function parseGoFloat(text: string): number | undefined {
  const special = /^([+-]?)(inf|infinity|nan)$/i.exec(text);
  if (special !== null) {
    if (special[2]?.toLowerCase() === 'nan') return Number.NaN;
    return special[1] === '-' ? -Infinity : Infinity;
  }
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return undefined;
  return Number(text);
}

/** A number literal; a duration literal (`5m`) counts as its seconds, as in Prometheus 3. */
export function parseNumberLiteral(text: string): number | undefined {
  const value = parseGoInt(text) ?? parseGoFloat(text);
  if (value !== undefined) return value;
  const negative = text.startsWith('-');
  const duration = parseDurationMs(negative ? text.slice(1) : text);
  if (duration === undefined) return undefined;
  return ((negative ? -1 : 1) * duration) / 1000;
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
};

/** strconv.Unquote for "…", '…' and `…`; undefined when the literal is malformed. */
export function unquoteString(literal: string): string | undefined {
  const quote = literal[0];
  if (literal.length < 2 || literal.at(-1) !== quote) return undefined;
  const body = literal.slice(1, -1);
  if (quote === '`') return body.includes('`') ? undefined : body;
  if (quote !== '"' && quote !== "'") return undefined;
  let out = '';
  for (let i = 0; i < body.length; i += 1) {
    const char = body[i] ?? '';
    if (char === quote || char === '\n') return undefined;
    if (char !== '\\') {
      out += char;
      continue;
    }
    const next = body[i + 1] ?? '';
    const simple = SIMPLE_ESCAPES[next];
    if (simple !== undefined || next === quote) {
      out += simple ?? next;
      i += 1;
      continue;
    }
    const width = { x: 2, u: 4, U: 8 }[next];
    const digits = width === undefined ? /^[0-7]{3}/.exec(body.slice(i + 1))?.[0] : body.slice(i + 2, i + 2 + width);
    if (digits === undefined) return undefined;
    const valid = width === undefined ? digits.length === 3 : new RegExp(`^[0-9a-fA-F]{${width}}$`).test(digits);
    if (!valid) return undefined;
    const code = Number.parseInt(digits, width === undefined ? 8 : 16);
    if (code > 0x10ffff) return undefined;
    out += String.fromCodePoint(code);
    i += width === undefined ? 3 : width + 1;
  }
  return out;
}
