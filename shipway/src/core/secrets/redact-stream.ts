import { createRedactor, formsOf } from './redact.js';

/** A redactor for text that arrives in pieces: push each piece, then end. */
export interface StreamRedactor {
  /** Redacted text that is safe to write now; a tail that could still begin a secret is held back. */
  push(text: string): string;
  /** What is held back, redacted: call once when the stream ends. */
  end(): string;
}

/**
 * Every form of every secret removed from a stream, also when a secret is split between two
 * writes. GitLab Runner masks job logs the same way (helpers/trace/mask.go, `safecopy`: data that
 * could still be the start of a masked phrase is held back until more arrives); here the tail
 * held back is at most the longest form minus one character, and only from a position where it
 * is a prefix of some form, so ordinary output passes through at once.
 */
export function createStreamRedactor(secrets: readonly string[]): StreamRedactor {
  const redact = createRedactor(secrets);
  const forms = [...new Set(secrets.flatMap(formsOf))].filter((form) => form !== '');
  const firsts = new Set(forms.map((form) => form[0]));
  const hold = Math.max(0, ...forms.map((form) => form.length - 1));
  let pending = '';
  return {
    push(text) {
      if (forms.length === 0) return text;
      const all = redact(pending + text);
      const cut = safeCut(all, forms, firsts, hold);
      pending = all.slice(cut);
      return all.slice(0, cut);
    },
    end() {
      const rest = redact(pending);
      pending = '';
      return rest;
    },
  };
}

/** The first index within `hold` characters of the end from which the rest of `text` is a proper prefix of a form. */
function safeCut(
  text: string,
  forms: readonly string[],
  firsts: ReadonlySet<string | undefined>,
  hold: number,
): number {
  for (let start = Math.max(0, text.length - hold); start < text.length; start += 1) {
    if (!firsts.has(text[start])) continue;
    const tail = text.slice(start);
    if (forms.some((form) => form.length > tail.length && form.startsWith(tail))) return start;
  }
  return text.length;
}
