import { z } from 'zod';

/** Everything the service reads from its environment, validated once at start-up. */
export interface ServiceConfig {
  readonly port: number;
  readonly host: string;
  readonly logLevel: LogLevel;
  /** Upper bound on the whole shutdown, from the signal to exit. */
  readonly shutdownTimeoutMs: number;
  /** Time to keep serving after readiness turns 503, so load balancers stop routing here first. */
  readonly shutdownDelayMs: number;
  readonly revision: string | null;
  readonly imageDigest: string | null;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

const integer = (name: string, min: number, max: number, fallback: number) =>
  z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw === '') return fallback;
      const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
      if (Number.isSafeInteger(value) && value >= min && value <= max) return value;
      ctx.addIssue({
        code: 'custom',
        message: `${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`,
      });
      return z.NEVER;
    });

const optionalText = z
  .string()
  .optional()
  .transform((raw) => (raw === undefined || raw.trim() === '' ? null : raw.trim()));

const envSchema = z.object({
  PORT: integer('PORT', 0, 65_535, 8080),
  HOST: z
    .string()
    .optional()
    .transform((raw) => (raw === undefined || raw === '' ? '0.0.0.0' : raw))
    .refine((host) => /^[A-Za-z0-9.:_-]+$/.test(host) && !host.includes('..'), {
      message: 'HOST must be an IP address or host name',
    }),
  LOG_LEVEL: z
    .string()
    .optional()
    .transform((raw) => (raw === undefined || raw === '' ? 'info' : raw.toLowerCase()))
    .pipe(z.enum(LOG_LEVELS, { message: `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}` })),
  SHUTDOWN_TIMEOUT_MS: integer('SHUTDOWN_TIMEOUT_MS', 1, 600_000, 10_000),
  SHUTDOWN_DELAY_MS: integer('SHUTDOWN_DELAY_MS', 0, 600_000, 0),
  APP_REVISION: optionalText,
  IMAGE_DIGEST: optionalText,
});

/** Reads and validates the service's environment; throws ConfigError listing every problem at once. */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): ServiceConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => issue.message));
  }
  const value = parsed.data;
  if (value.SHUTDOWN_DELAY_MS >= value.SHUTDOWN_TIMEOUT_MS) {
    throw new ConfigError([
      `SHUTDOWN_DELAY_MS (${value.SHUTDOWN_DELAY_MS}) must be less than SHUTDOWN_TIMEOUT_MS (${value.SHUTDOWN_TIMEOUT_MS})`,
    ]);
  }
  return {
    port: value.PORT,
    host: value.HOST,
    logLevel: value.LOG_LEVEL,
    shutdownTimeoutMs: value.SHUTDOWN_TIMEOUT_MS,
    shutdownDelayMs: value.SHUTDOWN_DELAY_MS,
    revision: value.APP_REVISION,
    imageDigest: value.IMAGE_DIGEST,
  };
}
