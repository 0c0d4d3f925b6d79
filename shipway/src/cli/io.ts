import { createRedactor } from '../core/secrets/redact.js';
import { secretsIn } from '../core/secrets/secret-variables.js';

/** The streams and process facts a command may use; tests pass their own. */
export interface CliIo {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /**
   * For a long-running command that cleans up when stopped (a server, the cluster, the pipeline
   * runner): from the first call on, SIGINT and SIGTERM abort the returned signal instead of
   * ending the process. Other commands never call it, so a signal ends them at once, even in the
   * middle of synchronous work (parsing, planning) during which no JavaScript handler could run.
   */
  readonly interruption?: () => AbortSignal;
  /** Asks a person a question on the terminal; absent when nobody is there (CI, pipes, tests). */
  readonly ask?: (question: string) => Promise<string>;
}

/** The signal a long-running command stops on (never aborted where nobody can interrupt: tests). */
export function interruptionOf(io: CliIo): AbortSignal {
  return io.interruption?.() ?? new AbortController().signal;
}

/** Results to stdout, progress to stderr. */
export interface Output {
  readonly json: boolean;
  result(text: string): void;
  data(value: unknown): void;
  progress(text: string): void;
}

/**
 * The one redaction point: the streams every command, commander's own messages and the error
 * report write through, with the values of the secret variables (core/secrets) removed.
 */
export function redactingIo(io: CliIo, extraSecrets: readonly string[] = []): CliIo {
  const redact = createRedactor([...secretsIn(io.env), ...extraSecrets.filter((secret) => secret.length >= 4)]);
  return { ...io, stdout: (text) => io.stdout(redact(text)), stderr: (text) => io.stderr(redact(text)) };
}

/** Writes to `io`, which runCli has already made redacting. */
export function createOutput(io: CliIo, json: boolean): Output {
  return {
    json,
    result: (text) => io.stdout(`${text}\n`),
    data: (value) => io.stdout(`${JSON.stringify(value, null, 2)}\n`),
    progress: (text) => io.stderr(`${text}\n`),
  };
}
