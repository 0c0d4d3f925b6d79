/**
 * The error family. Each subclass names a cause; cli/exit-code.ts maps causes to exit codes
 * (usage/config 2, external systems 3, refusals 4, anything else is a bug: 1). Every member is
 * made the same way: `new XError(code, message, { hint?, cause? })`, the code a stable
 * SCREAMING_SNAKE name that JSON output and tests match on.
 */
export interface ErrorDetails {
  readonly hint?: string | undefined;
  readonly cause?: unknown;
}

export abstract class ShipwayError extends Error {
  abstract readonly code: string;
  readonly hint: string | undefined;

  constructor(message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.hint = details.hint;
  }
}

/** The command line was wrong: unknown environment, bad argument, invalid image reference. */
export class UsageError extends ShipwayError {
  readonly code: string;
  constructor(code: string, message: string, details: ErrorDetails = {}) {
    super(message, details);
    this.code = code;
  }
}

/** A file the user owns is wrong: shipway.yaml, kustomization.yaml, a manifest. */
export class ConfigError extends ShipwayError {
  readonly code: string;
  readonly problems: readonly string[];
  constructor(code: string, message: string, details: ErrorDetails & { problems?: readonly string[] } = {}) {
    super(message, details);
    this.code = code;
    this.problems = details.problems ?? [];
  }
}

/** Git, a registry, Kubernetes, GitLab or a tool failed or could not be reached. */
export class ExternalError extends ShipwayError {
  readonly code: string;
  constructor(code: string, message: string, details: ErrorDetails = {}) {
    super(message, details);
    this.code = code;
  }
}

/** A gate, a policy or a precondition said no; nothing was changed. */
export class RefusedError extends ShipwayError {
  readonly code: string;
  constructor(code: string, message: string, details: ErrorDetails = {}) {
    super(message, details);
    this.code = code;
  }
}
