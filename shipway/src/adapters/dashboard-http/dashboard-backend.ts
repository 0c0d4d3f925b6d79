import { z } from 'zod';
import { isPinnableDigest } from '../../core/image-ref.js';

/** Who asked for an action, as the audit log records it. */
export interface Actor {
  /** `session:<8 hex>` (a browser session) or `token` (Authorization: Bearer). */
  readonly who: string;
  readonly address: string;
  readonly userAgent: string;
}

export type LiveEvent =
  | { readonly type: 'board'; readonly app: string; readonly board: unknown }
  | { readonly type: 'timeline'; readonly app: string }
  | { readonly type: 'pipelines'; readonly app: string }
  | { readonly type: 'audit'; readonly entry: unknown };

const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'a name of letters, digits, ".", "_" or "-"');
const digest = z
  .string()
  .refine(isPinnableDigest, 'an OCI digest: sha256 with 64 or sha512 with 128 lowercase hex digits');

export const appParams = z.object({ app: name });
export const envParams = appParams.extend({ env: name });
export const commitParams = envParams.extend({ commit: z.string().regex(/^[0-9a-f]{7,64}$/, 'a commit id') });
export const runParams = appParams.extend({ run: z.string().regex(/^\d{1,12}-[a-z0-9][a-z0-9-]{0,62}$/, 'a run id') });
export const jobParams = runParams.extend({ job: z.string().min(1).max(255) });
export const offsetQuery = z.object({ offset: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0) });
export const metricsQuery = z.object({ days: z.coerce.number().int().min(1).max(366).default(30) });
export const loginBody = z.strictObject({ token: z.string().min(1).max(512) });

export const actionBody = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('release'), digest, approve: z.boolean().default(false) }),
  z.strictObject({ action: z.enum(['promote', 'promote-full', 'retry', 'abort', 'rollback']), digest }),
]);
export type ActionBody = z.infer<typeof actionBody>;

/**
 * What the dashboard server needs from shipway, implemented in app/dashboard. Read results are
 * plain JSON values; errors are ShipwayErrors (UsageError → 400, code NOT_FOUND → 404,
 * ConfigError → 400, RefusedError → 409, ExternalError → 502).
 */
export interface DashboardBackend {
  apps(): Promise<unknown>;
  board(app: string): Promise<unknown>;
  timeline(app: string): Promise<unknown>;
  commitDiff(app: string, environment: string, commit: string): Promise<unknown>;
  preview(app: string, environment: string): Promise<unknown>;
  pipelines(app: string): Promise<unknown>;
  pipeline(app: string, run: string): Promise<{ readonly jobs: readonly { name: string; status: string }[] }>;
  log(app: string, run: string, job: string, offset: number): Promise<{ text: string; next: number; size: number }>;
  metrics(app: string, days: number): Promise<unknown>;
  act(app: string, environment: string, action: ActionBody, actor: Actor): Promise<unknown>;
  audit(): Promise<unknown>;
  /** Live changes; returns the unsubscribe function. */
  subscribe(listener: (event: LiveEvent) => void): () => void;
  close(): Promise<void>;
}
