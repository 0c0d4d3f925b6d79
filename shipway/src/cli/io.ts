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

/** Results to stdout, progress to stderr, secrets removed from both: the one redaction point. */
export interface Output {
  readonly json: boolean;
  result(text: string): void;
  data(value: unknown): void;
  progress(text: string): void;
}

export function redact(text: string, secrets: readonly string[]): string {
  return secrets.reduce((out, secret) => out.split(secret).join('[redacted]'), text);
}

export function createOutput(io: CliIo, json: boolean, secrets: readonly string[]): Output {
  return {
    json,
    result: (text) => io.stdout(redact(`${text}\n`, secrets)),
    data: (value) => io.stdout(redact(`${JSON.stringify(value, null, 2)}\n`, secrets)),
    progress: (text) => io.stderr(redact(`${text}\n`, secrets)),
  };
}
