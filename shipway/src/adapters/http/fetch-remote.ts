import { ExternalError } from '../../core/errors.js';

export interface RemoteFile {
  readonly bytes: Uint8Array;
  /** The URL the bytes came from, after redirects. */
  readonly url: string;
}

/**
 * An `include: remote:` file over HTTP(S), as GitLab fetches it (External::File::Remote): a
 * plain GET, no credentials (a remote host never sees a GitLab token), redirects followed, a
 * 2xx answer required. The body is read up to `maxBytes` (GitLab refuses bigger config files)
 * and the whole request ends after `timeoutMs`.
 */
export async function fetchRemote(url: string, limits: { maxBytes: number; timeoutMs: number }): Promise<RemoteFile> {
  const fail = (reason: string): never => {
    throw new ExternalError('REMOTE_INCLUDE_FAILED', `include: remote ${url}: ${reason}`, {
      hint: 'check the URL from this machine, or put the file in the include directory by hand (docs/plan.md)',
    });
  };
  let response: Response;
  try {
    response = await fetch(url, { redirect: 'follow', signal: AbortSignal.timeout(limits.timeoutMs) });
  } catch (error) {
    return fail(
      error instanceof Error && error.name === 'TimeoutError'
        ? `no answer within ${limits.timeoutMs} ms`
        : 'the request failed',
    );
  }
  if (!response.ok) {
    await response.body?.cancel();
    return fail(`HTTP ${response.status}`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body?.getReader();
  for (;;) {
    const next = reader === undefined ? { done: true as const, value: undefined } : await reader.read();
    if (next.done) break;
    size += next.value.byteLength;
    if (size > limits.maxBytes) {
      await reader?.cancel();
      return fail(`larger than ${limits.maxBytes} bytes`);
    }
    chunks.push(next.value);
  }
  return { bytes: Buffer.concat(chunks), url: response.url || url };
}
