import { type ChildProcess, spawn } from 'node:child_process';
import { signalGroup } from './signal-group.js';

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly input?: string;
  /**
   * Stops the program when aborted: it runs in its own process group, which gets SIGTERM, then
   * SIGKILL 5 s later if it is still there, so that what it started (buildah's RUN steps) goes too.
   */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Runs a program without a shell and collects its output. It never throws for a non-zero exit:
 * callers decide what a failure means. A program that cannot start (ENOENT) rejects.
 */
export function runCommand(program: string, args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      detached: options.signal !== undefined,
    });
    const stop = stopGroupOn(child, options.signal);
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.once('error', reject);
    child.once('close', (code) => {
      stop();
      resolve({
        code: code ?? 1,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
    if (child.stdin !== null) {
      // A program may exit without reading its input; that is its answer, not an error here.
      child.stdin.on('error', () => {});
      child.stdin.end(options.input);
    }
  });
}

/** Signals the child's process group when `signal` aborts; returns what to call once it closed. */
function stopGroupOn(child: ChildProcess, signal: AbortSignal | undefined): () => void {
  if (signal === undefined || child.pid === undefined) return () => {};
  const pid = child.pid;
  let kill: NodeJS.Timeout | undefined;
  const onAbort = () => {
    signalGroup(pid, 'SIGTERM');
    kill = setTimeout(() => signalGroup(pid, 'SIGKILL'), 5000);
  };
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  return () => {
    signal.removeEventListener('abort', onAbort);
    if (kill !== undefined) clearTimeout(kill);
    // The leader is gone: whatever of its group ignored SIGTERM goes now.
    if (signal.aborted) signalGroup(pid, 'SIGKILL');
  };
}
