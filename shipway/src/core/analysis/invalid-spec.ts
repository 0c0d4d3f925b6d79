import { ConfigError } from '../errors.js';

/**
 * An AnalysisTemplate shipway cannot evaluate faithfully: an unsupported provider, a PromQL
 * construct outside the evaluated subset, a condition it cannot read. Argo Rollouts would run
 * these; shipway refuses them by name instead of measuring something else.
 */
export class InvalidSpecError extends ConfigError {
  constructor(message: string, hint?: string) {
    super('ANALYSIS_INVALID_SPEC', message, hint === undefined ? {} : { hint });
  }
}

/** 1-based line and column of an offset, as editors show them. */
export function positionOf(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `${before.length}:${(before.at(-1)?.length ?? 0) + 1}`;
}
