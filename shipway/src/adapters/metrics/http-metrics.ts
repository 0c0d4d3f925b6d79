import { Agent, fetch as undiciFetch } from 'undici';
import type { WebProvider } from '../../core/analysis/analysis-template.js';
import type { WebResponse } from '../../core/analysis/web-measurement.js';

/** A scrape or web metric answer larger than this is refused (Prometheus has body_size_limit too). */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

export class HttpMetricsError extends Error {}

async function readCapped(response: { body: ReadableStream<Uint8Array> | null }, maxBytes: number): Promise<string> {
  const reader = response.body?.getReader();
  if (reader === undefined) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new HttpMetricsError(`body larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** GETs a /metrics page as Prometheus asks for it (text format 0.0.4); non-2xx is a failed scrape. */
export async function scrapeText(url: string, timeoutMs: number): Promise<string> {
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { accept: 'text/plain;version=0.0.4;q=1,*/*;q=0.1' },
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'follow',
    });
  } catch (error) {
    throw new HttpMetricsError(
      `${url}: ${error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error)}`,
    );
  }
  const body = await readCapped(response, MAX_BODY_BYTES);
  if (response.status < 200 || response.status >= 300)
    throw new HttpMetricsError(`${url}: server returned HTTP status ${response.status}`);
  return body;
}

const insecureAgent = new Agent({ connect: { rejectUnauthorized: false } });

/** The web provider's request (webmetric.go Run): method, headers, body or JSON body, timeout (default 10 s). */
export async function webRequest(web: WebProvider): Promise<WebResponse> {
  // http.Header.Set: one value per name, the last given wins; names are case-insensitive.
  const headers: Record<string, string> = {};
  const set = (key: string, value: string) => {
    for (const name of Object.keys(headers)) if (name.toLowerCase() === key.toLowerCase()) delete headers[name];
    headers[key] = value;
  };
  for (const header of web.headers ?? []) set(header.key, header.value);
  let body: string | undefined = web.body === '' ? undefined : web.body;
  if (web.jsonBody !== undefined) {
    body = JSON.stringify(web.jsonBody);
    set('Content-Type', 'application/json');
  }
  const timeoutMs = (web.timeoutSeconds !== undefined && web.timeoutSeconds > 0 ? web.timeoutSeconds : 10) * 1000;
  const init = {
    method: web.method ?? 'GET',
    headers,
    signal: AbortSignal.timeout(timeoutMs),
    ...(body === undefined ? {} : { body }),
    ...(web.insecure === true ? { dispatcher: insecureAgent } : {}),
  };
  try {
    const response = await undiciFetch(web.url, init);
    return { status: response.status, body: await readCapped(response, MAX_BODY_BYTES) };
  } catch (error) {
    if (error instanceof HttpMetricsError) throw error;
    throw new HttpMetricsError(
      `${init.method} ${web.url}: ${error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error)}`,
    );
  }
}
