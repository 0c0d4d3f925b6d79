import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';
import { signalGroup } from './signal-group.js';

export interface ShellScriptOptions {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly lines: readonly string[];
  /** Where the job's output goes (its log file). */
  readonly log: Writable;
  readonly signal?: AbortSignal | undefined;
}

/** Single-quotes a string for bash. */
function quote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * Runs script lines the way GitLab's shell executor does: one bash with `set -eo pipefail`,
 * each line echoed as `$ line` before it runs, the first failing line ending the script. Resolves
 * with the exit code; output goes to the log.
 */
export function runShellScript(options: ShellScriptOptions): Promise<number> {
  const script = [
    'set -eo pipefail',
    ...options.lines.flatMap((line) => [`printf '%s\\n' ${quote(`$ ${line}`)}`, line]),
  ].join('\n');
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['--noprofile', '--norc', '-c', script], {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    child.stdout?.pipe(options.log, { end: false });
    child.stderr?.pipe(options.log, { end: false });
    // A cancelled job stops with everything it started (its own process group).
    const cancel = () => signalGroup(child.pid ?? 0, 'SIGTERM');
    options.signal?.addEventListener('abort', cancel, { once: true });
    child.once('error', reject);
    child.once('close', (code, signal) => {
      options.signal?.removeEventListener('abort', cancel);
      resolve(code ?? (signal === null ? 1 : 128 + 15));
    });
  });
}
