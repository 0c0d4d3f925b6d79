import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { freePort, waitFor } from './free-port.js';

export interface DistributionRegistry {
  readonly host: string;
  readonly dir: string;
  stop(): Promise<void>;
}

/**
 * The CNCF distribution registry (Debian's docker-registry package) on a free loopback port,
 * with Basic auth against a bcrypt htpasswd file. .ci/run installs the package.
 */
export async function startDistributionRegistry(user: string, password: string): Promise<DistributionRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'shipway-distribution-'));
  const port = await freePort();
  writeFileSync(join(dir, 'htpasswd'), `${user}:${bcrypt.hashSync(password, 5)}\n`);
  writeFileSync(
    join(dir, 'config.yml'),
    [
      'version: 0.1',
      'log: { level: error }',
      `storage: { filesystem: { rootdirectory: ${join(dir, 'data')} }, delete: { enabled: true } }`,
      `http: { addr: "127.0.0.1:${port}" }`,
      `auth: { htpasswd: { realm: test, path: ${join(dir, 'htpasswd')} } }`,
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('docker-registry', ['serve', join(dir, 'config.yml')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const host = `127.0.0.1:${port}`;
  try {
    await waitFor(
      async () => (await fetch(`http://${host}/v2/`)).status === 401,
      `docker-registry on ${host}: ${stderr}`,
    );
  } catch (error) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    host,
    dir,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
