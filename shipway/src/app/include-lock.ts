import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';

/** The file in the include directory that records what `shipway includes fetch` pinned. */
export const LOCK_FILE = 'includes.lock.json';

const entrySchema = z.object({
  /** The file, relative to the include directory. */
  path: z.string(),
  /** For project and component includes: the ref or version as the config writes it, and the commit it resolved to. */
  ref: z.string().optional(),
  commit: z.string().optional(),
  /** For a component asked for as ~latest or a partial version: the release it resolved to. */
  version: z.string().optional(),
  /** Where the bytes came from (an API or remote URL, never with a token in it). */
  source: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

const lockSchema = z.object({
  version: z.literal(1),
  entries: z.record(z.string(), entrySchema),
});

export type IncludeLock = z.infer<typeof lockSchema>;
export type IncludeLockEntry = z.infer<typeof entrySchema>;

/** The lock in `dir`: no file is an empty lock; a malformed one is a config error naming it. */
export function readIncludeLock(dir: string): IncludeLock {
  let text: string;
  try {
    text = readFileSync(join(dir, LOCK_FILE), 'utf8');
  } catch {
    return { version: 1, entries: {} };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError('CONFIG_INVALID', `${join(dir, LOCK_FILE)} is not JSON`, {
      cause: error,
      hint: 'delete it and run shipway includes fetch again',
    });
  }
  const parsed = lockSchema.safeParse(value);
  if (!parsed.success)
    throw new ConfigError('CONFIG_INVALID', `${join(dir, LOCK_FILE)} is not an include lock`, {
      problems: parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`),
      hint: 'delete it and run shipway includes fetch again',
    });
  return parsed.data;
}
