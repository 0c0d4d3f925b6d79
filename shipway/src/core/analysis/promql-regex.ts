/**
 * PromQL label regexes are Go RE2, fully anchored: Prometheus compiles `^(?s:<re>)$`
 * (model/labels/regexp.go, NewFastRegexMatcher). JavaScript's engine reads most RE2 syntax the
 * same way; what it would read differently (or RE2 refuses: lookaround, backreferences) is
 * rejected here with the reason, never run with another meaning.
 */
const POSIX_CLASSES: Readonly<Record<string, string>> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

export class RegexSyntaxError extends Error {}

function translateEscape(source: string, at: number, inClass: boolean): { text: string; length: number } {
  const next = source[at + 1];
  if (next === undefined) throw new RegexSyntaxError('trailing backslash');
  if (/[1-9]/.test(next) || next === 'k') throw new RegexSyntaxError('backreferences are not RE2 syntax');
  if (next === 'p' || next === 'P') throw new RegexSyntaxError('Unicode classes (\\p) are not supported here');
  if (next === 'Q') throw new RegexSyntaxError('\\Q…\\E quoting is not supported here');
  if (next === 'C') throw new RegexSyntaxError('\\C (any byte) is not supported here');
  if (!inClass && next === 'A') return { text: '^', length: 2 };
  if (!inClass && next === 'z') return { text: '$', length: 2 };
  return { text: `\\${next}`, length: 2 };
}

function translateGroup(source: string, at: number): { text: string; length: number; flags: string } {
  const rest = source.slice(at);
  if (/^\(\?P?<[A-Za-z_]\w*>/.test(rest)) {
    const name = /^\(\?P?<([A-Za-z_]\w*)>/.exec(rest)?.[1] ?? '';
    return { text: `(?<${name}>`, length: rest.indexOf('>') + 1, flags: '' };
  }
  if (rest.startsWith('(?:')) return { text: '(?:', length: 3, flags: '' };
  if (/^\(\?(=|!|<=|<!)/.test(rest)) throw new RegexSyntaxError('lookaround is not RE2 syntax');
  const flags = /^\(\?([imsU]+)\)/.exec(rest);
  if (flags !== null && at === 0 && /^[is]+$/.test(flags[1] ?? '')) {
    return { text: '', length: flags[0].length, flags: (flags[1] ?? '').includes('i') ? 'i' : '' };
  }
  if (rest.startsWith('(?'))
    throw new RegexSyntaxError('inline flags other than a leading (?i) are not supported here');
  return { text: '(', length: 1, flags: '' };
}

/**
 * RE2 matches in linear time; JavaScript backtracks, so a repeated group that itself repeats
 * (`(a+)+`, `(.*x)*`) could take exponential time on a hostile label value. Refused.
 */
function checkRepetition(pattern: string, at: number, repeats: boolean[]): void {
  const char = pattern[at];
  const next = pattern[at + 1];
  if (char === '*' || char === '+' || (char === '{' && /^\{\d*,\d*\}/.test(pattern.slice(at))))
    repeats[repeats.length - 1] = true;
  if (char !== ')') return;
  const inner = repeats.pop() ?? false;
  if (repeats.length === 0) throw new RegexSyntaxError('unbalanced )');
  if (inner && (next === '*' || next === '+' || next === '{'))
    throw new RegexSyntaxError('a repeated group that itself repeats could backtrack exponentially in JavaScript');
  if (inner) repeats[repeats.length - 1] = true;
}

/** The JavaScript RegExp that matches exactly what Prometheus' anchored RE2 would. */
export function compilePromRegex(pattern: string): RegExp {
  let out = '';
  let flags = 's';
  let inClass = false;
  // Whether each open group (and the whole pattern, at the bottom) holds a repetition.
  const repeats: boolean[] = [false];
  for (let at = 0; at < pattern.length; ) {
    const char = pattern[at] ?? '';
    if (char === '\\') {
      const escaped = translateEscape(pattern, at, inClass);
      out += escaped.text;
      at += escaped.length;
    } else if (inClass && pattern.startsWith('[:', at)) {
      const posix = /^\[:(\^?)([a-z]+):\]/.exec(pattern.slice(at));
      const set = POSIX_CLASSES[posix?.[2] ?? ''];
      if (posix === null || set === undefined || posix[1] === '^')
        throw new RegexSyntaxError('unsupported POSIX class');
      out += set;
      at += posix[0].length;
    } else if (!inClass && char === '(') {
      const group = translateGroup(pattern, at);
      out += group.text;
      flags += group.flags;
      at += group.length;
      if (group.text !== '') repeats.push(false);
    } else if (char === '[' && !inClass) {
      inClass = true;
      out += '[';
      at += 1;
      // A leading ] (after an optional ^) is a literal in RE2; JavaScript needs it escaped.
      const lead = /^\^?\]/.exec(pattern.slice(at))?.[0];
      if (lead !== undefined) {
        out += lead.replace(']', '\\]');
        at += lead.length;
      }
    } else {
      if (char === ']' && inClass) inClass = false;
      else if (!inClass) checkRepetition(pattern, at, repeats);
      out += char;
      at += 1;
    }
  }
  try {
    return new RegExp(`^(?:${out})$`, flags);
  } catch (error) {
    throw new RegexSyntaxError(error instanceof Error ? error.message : String(error));
  }
}
