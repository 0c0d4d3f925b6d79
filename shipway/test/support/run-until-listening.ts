import { spawn } from 'node:child_process';
import { SHIPWAY_BIN } from './run-shipway.js';

export interface ServeOutcome {
  /** The exit code, or null when the server came up (it is then stopped at once). */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a serving command of the built CLI as a real process: either it exits (a refusal), or it
 * prints something on stdout (it is listening), and is then stopped so nothing stays open.
 */
export function runUntilListening(cwd: string, argv: readonly string[], timeoutMs = 20_000): Promise<ServeOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SHIPWAY_BIN, ...argv], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let listening = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      listening = true;
      child.kill('SIGTERM');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code: listening ? null : code, stdout, stderr });
    });
  });
}
