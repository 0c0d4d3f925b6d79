import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { imageCommand, type PulledImage } from '../../src/adapters/image/unpack-image.js';

/**
 * Starts an unpacked image's command the way a runtime would, minus the namespaces: the program
 * is looked up on the image's own PATH inside its rootfs, the working directory and environment
 * come from the image config, and PORT/HOST put it on a free loopback port.
 */
export function runImage(image: PulledImage): Promise<{ child: ChildProcess; address: string }> {
  const command = imageCommand(image);
  if (command.program === undefined) throw new Error("the image's command is not on its PATH");
  const child = spawn(command.program, command.args, {
    cwd: command.cwd,
    env: { ...command.env, PORT: '0', HOST: '127.0.0.1' },
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
