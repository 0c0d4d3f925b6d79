import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The largest request body the API reads: kube-apiserver's default MaxRequestBodyBytes (3 MiB,
 * k8s.io/apiserver/pkg/server/config.go), enforced by limitedReadBody in
 * k8s.io/apiserver/pkg/endpoints/handlers/rest.go.
 */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

/** A Kubernetes `Status` object for a failed request (k8s.io/apimachinery/pkg/api/errors). */
export function failure(code: number, reason: string, message: string): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

/** Answers JSON. `close`: the connection ends after this answer, so a body the client is still sending is not read. */
export function sendJson(response: ServerResponse, status: number, body: unknown, close = false): void {
  if (!response.headersSent)
    response.writeHead(status, { 'content-type': 'application/json', ...(close ? { connection: 'close' } : {}) });
  response.end(JSON.stringify(body));
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Whether the Authorization header carries `token` as a bearer token, parsed as kube-apiserver's
 * bearer-token authenticator parses it (k8s.io/apiserver/pkg/authentication/request/bearertoken:
 * trimmed, the scheme case-insensitive, the token the second space-separated part, an empty
 * token never valid). Compared in constant time over SHA-256 digests, so that neither the
 * content nor the length of the token leaks through response timing.
 */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const parts = (header ?? '').trim().split(' ');
  const presented = parts[1] ?? '';
  if (parts[0]?.toLowerCase() !== 'bearer' || presented === '') return false;
  return timingSafeEqual(digest(presented), digest(token));
}

/**
 * The request body, or 'too-large' as soon as it passes `limit` bytes (a declared
 * Content-Length over the limit is refused before reading anything); reading stops there and the
 * caller answers 413 and closes the connection. 'aborted' when the client went away first.
 */
export function readLimitedBody(request: IncomingMessage, limit: number): Promise<Buffer | 'too-large' | 'aborted'> {
  if (Number(request.headers['content-length'] ?? 0) > limit) return Promise.resolve('too-large');
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      // Pausing (not destroying) the request keeps the socket open for the 413 answer.
      request.off('data', onData);
      request.pause();
      resolve('too-large');
    };
    request.on('data', onData);
    request.once('end', () => resolve(Buffer.concat(chunks)));
    request.once('close', () => resolve('aborted'));
    request.once('error', () => resolve('aborted'));
  });
}

const VERBS = new Map([
  ['POST', 'create'],
  ['PUT', 'update'],
  ['DELETE', 'delete'],
]);

/** The verb kube-apiserver names in a 405 for an HTTP method (k8s.io/apiserver/pkg/endpoints/request). */
export function verbOf(method: string | undefined): string {
  return VERBS.get(method ?? '') ?? (method ?? '').toLowerCase();
}
