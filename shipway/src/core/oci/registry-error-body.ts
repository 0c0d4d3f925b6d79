import { z } from 'zod';

/**
 * The body of a registry's 4XX answer (distribution-spec spec.md, "Error Codes"): any format,
 * but when it is JSON it is `{"errors": [{"code", "message"?, "detail"?}]}`, `code` being an
 * identifier such as DIGEST_INVALID, `message` optional (maybe empty), `detail` any JSON.
 */
const errorBodySchema = z.object({
  errors: z
    .array(
      z.object({
        code: z.string(),
        message: z.string().optional(),
        detail: z.unknown().optional(),
      }),
    )
    .min(1),
});

const MAX_LENGTH = 200;

/**
 * What to tell the user about a registry's error body: each error's message, code and detail
 * (`uploaded content does not match digest (DIGEST_INVALID)`); a body of another shape or not
 * JSON (a proxy's HTML page, a token service's own format) as its first characters on one line;
 * empty when there is no body. The HTTP status is the caller's to show.
 */
export function describeRegistryError(body: string): string {
  const parsed = errorBodySchema.safeParse(parseJson(body));
  if (!parsed.success) return clip(body);
  return clip(
    parsed.data.errors
      .map(({ code, message, detail }) => {
        const extra = detailText(detail);
        const what = extra === '' ? code : `${code}: ${extra}`;
        return message === undefined || message.trim() === '' ? what : `${message.trim()} (${what})`;
      })
      .join('; '),
  );
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function detailText(detail: unknown): string {
  if (detail === undefined || detail === null) return '';
  if (typeof detail === 'string') return detail.trim();
  const json = JSON.stringify(detail);
  return json === '{}' || json === '[]' ? '' : json;
}

/** One line, without control characters (a registry's text goes to the user's terminal). */
function clip(raw: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point.
  const text = raw.replace(/[\s\u0000-\u001f\u007f-\u009f]+/g, ' ').trim();
  return text.length > MAX_LENGTH ? `${text.slice(0, MAX_LENGTH - 1)}…` : text;
}
