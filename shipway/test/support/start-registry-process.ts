import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { SHIPWAY_BIN } from './run-shipway.js';

export interface RegistryProcess {
  readonly host: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

/** `shipway registry serve --port 0` as a real process; resolves once it prints its URL. */
export function startRegistryProcess(dir: string, extraArgs: readonly string[] = []): Promise<RegistryProcess> {
  const child = spawn(
    process.execPath,
    [SHIPWAY_BIN, 'registry', 'serve', '--port', '0', '--dir', dir, '--json', ...extraArgs],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    let json = '';
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      json += line;
      try {
        const { url } = JSON.parse(json) as { url: string };
        resolve({
          host: new URL(url).host,
          child,
          stop: async () => {
            child.kill('SIGTERM');
            await exited;
          },
        });
      } catch {}
    });
    void exited.then((code) => reject(new Error(`registry exited with ${code}: ${stderr}`)));
  });
}
