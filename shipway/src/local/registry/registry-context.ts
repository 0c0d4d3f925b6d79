import type { FastifyReply, FastifyRequest } from 'fastify';
import type { BlobStore } from './blob-store.js';
import type { RegistryAuth } from './registry-auth.js';

/** What every route handler of the embedded registry gets for one request. */
export interface RegistryContext {
  readonly store: BlobStore;
  readonly auth: RegistryAuth;
  readonly request: FastifyRequest;
  readonly reply: FastifyReply;
  readonly url: URL;
}

/** An error response in the distribution spec's shape (spec.md, "Error Codes"). */
export function fail(reply: FastifyReply, status: number, code: string, message: string, detail?: unknown) {
  return reply
    .code(status)
    .header('content-type', 'application/json')
    .send({ errors: [{ code, message, ...(detail === undefined ? {} : { detail }) }] });
}
