/** What a secret is replaced with wherever it would be printed. */
export const REDACTED = '[redacted]';

/**
 * The forms a secret takes in printed text: as is, escaped inside a JSON string (`--json` and
 * messages that quote a value with JSON.stringify), percent-encoded in a URL, and in base64.
 */
export function formsOf(secret: string): string[] {
  return [
    secret,
    JSON.stringify(secret).slice(1, -1),
    encodeURIComponent(secret),
    Buffer.from(secret, 'utf8').toString('base64'),
  ];
}

/**
 * A function that removes every form of every secret from a text. Longer forms go first, so a
 * secret that contains another is removed whole.
 */
export function createRedactor(secrets: readonly string[]): (text: string) => string {
  const forms = [...new Set(secrets.flatMap(formsOf))].filter((form) => form !== '');
  forms.sort((a, b) => b.length - a.length);
  if (forms.length === 0) return (text) => text;
  return (text) => forms.reduce((out, form) => out.split(form).join(REDACTED), text);
}
