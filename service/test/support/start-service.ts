import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const SERVICE_ENTRY = fileURLToPath(new URL('../../dist/server.js', import.meta.url));

export interface RunningService {
  readonly child: ChildProcess;
  readonly address: string;
  readonly logs: string[];
  readonly exited: Promise<number | null>;
}

/** Starts the built service as a real process on a free loopback port and waits for its "listening" log line. */
export function startService(env: Record<string, string> = {}, entry = SERVICE_ENTRY): Promise<RunningService> {
  const child = spawn(process.execPath, [entry], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stderr }).on('line', (line) => logs.push(line));
    createInterface({ input: child.stdout }).on('line', (line) => {
      logs.push(line);
      const entry = parseLog(line);
      if (entry?.msg === 'listening' && typeof entry.address === 'string') {
        resolve({ child, address: entry.address, logs, exited });
      }
    });
    void exited.then((code) => reject(new Error(`service exited with ${code} before listening:\n${logs.join('\n')}`)));
  });
}

function parseLog(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
