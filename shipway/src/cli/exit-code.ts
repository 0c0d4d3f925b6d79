import { ConfigError, ExternalError, RefusedError, UsageError } from '../core/errors.js';

/** The one table from error causes to exit codes. */
export const EXIT = { ok: 0, bug: 1, usage: 2, external: 3, refused: 4 } as const;

export function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError || error instanceof ConfigError) return EXIT.usage;
  if (error instanceof ExternalError) return EXIT.external;
  if (error instanceof RefusedError) return EXIT.refused;
  return EXIT.bug;
}
