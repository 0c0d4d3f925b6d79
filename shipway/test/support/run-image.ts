import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { PulledImage } from '../../src/adapters/image/unpack-image.js';

/**
 * Starts an unpacked image's command the way a runtime would, minus the namespaces: the program
 * is looked up on the image's own PATH inside its rootfs, the working directory and environment
 * come from the image config, and PORT/HOST put it on a free loopback port.
 */
export function runImage(image: PulledImage): Promise<{ child: ChildProcess; address: string }> {
  const settings = image.config.config;
  const command = [...(settings.Entrypoint ?? []), ...(settings.Cmd ?? [])];
  const env = Object.fromEntries(
    (settings.Env ?? []).map((entry) => [entry.split('=')[0] ?? '', entry.slice(entry.indexOf('=') + 1)]),
  );
  const searchPath = (env.PATH ?? '').split(':');
  const program = command[0]?.includes('/')
    ? join(image.rootfs, command[0])
    : searchPath.map((dir) => join(image.rootfs, dir, command[0] ?? '')).find((path) => existsSync(path));
  if (program === undefined) throw new Error(`${command[0]} is not on the image's PATH`);
  const child = spawn(program, command.slice(1), {
    cwd: join(image.rootfs, settings.WorkingDir ?? '/'),
    env: { ...env, PORT: '0', HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const match = /"msg":"listening"/.test(line) ? /"address":"([^"]+)"/.exec(line) : null;
      if (match?.[1] !== undefined) resolve({ child, address: match[1] });
    });
    child.once('exit', (code) => reject(new Error(`image command exited with ${code}: ${stderr}`)));
  });
}
