import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pullAndUnpack } from '../src/adapters/image/unpack-image.js';
import { RegistryClient } from '../src/adapters/registry/registry-client.js';
import { createRegistryServer } from '../src/local/registry/registry-server.js';
import { cloneRepo, type RepoClone } from './support/repo-clone.js';
import { runImage } from './support/run-image.js';
import { shipway, spawnShipway } from './support/run-shipway.js';

// service/Dockerfile built by real buildah (vfs storage, chroot isolation) on the host base, its
// `npm ci` reaching the npm registry through NODE_EXTRA_CA_CERTS passed in as a build secret.
let server: FastifyInstance;
let host: string;
let clone: RepoClone;
beforeAll(async () => {
  clone = cloneRepo();
  server = await createRegistryServer({ dir: join(clone.dir, '..', 'registry') });
  host = new URL(await server.listen({ port: 0, host: '127.0.0.1' })).host;
});
afterAll(async () => {
  await server.close();
  clone.cleanup();
});

describe('shipway image build --dockerfile service/Dockerfile', () => {
  it("builds the Dockerfile with buildah, pushes it with shipway's client, and the image serves Hello world", async () => {
    const run = await shipway(
      clone.dir,
      [
        'image',
        'build',
        '--dockerfile',
        'service/Dockerfile',
        '--base',
        'host',
        '--push',
        '--tag',
        'from-dockerfile',
        '--json',
      ],
      {
        AWS_REPOSITORY: `${host}/hello`,
      },
    );
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({ tag: 'from-dockerfile', push: 'pushed' });
    const client = new RegistryClient(host);
    expect(await client.resolveTag('hello', 'from-dockerfile')).toBe(result.digest);
    expect((await client.listTags('hello-base'))[0]).toMatch(/^host-node\d+/);
    const image = await pullAndUnpack(client, 'hello', result.digest, join(clone.dir, '..', 'pulled'));
    expect(image.config.config).toMatchObject({
      User: '1000:1000',
      WorkingDir: '/app',
      Cmd: ['node', 'dist/server.js'],
    });
    const { child, address } = await runImage(image);
    try {
      expect(await (await fetch(`${address}/`)).text()).toBe('Hello world');
    } finally {
      child.kill('SIGTERM');
    }
  }, 300_000);

  it('SIGTERM stops buildah and the RUN step it started, and says the build was interrupted (exit 3)', async () => {
    // A RUN step that would take two minutes; the marker finds its process.
    const marker = `shipway-interrupt-${process.pid}`;
    writeFileSync(
      join(clone.dir, 'slow.Dockerfile'),
      `ARG BASE_IMAGE\nFROM \${BASE_IMAGE}\nRUN ["node", "-e", "setTimeout(() => {}, 120000) // ${marker}"]\n`,
    );
    const running = () => {
      try {
        return execFileSync('pgrep', ['-f', marker], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
      } catch {
        return [];
      }
    };
    const build = spawnShipway(clone.dir, ['image', 'build', '--dockerfile', 'slow.Dockerfile', '--base', 'host'], {
      AWS_REPOSITORY: `${host}/hello`,
    });
    let stderr = '';
    build.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const closed = new Promise<number | null>((resolve) => build.once('close', resolve));
    for (const deadline = Date.now() + 120_000; running().length === 0; ) {
      if (Date.now() > deadline) throw new Error(`the RUN step never started:\n${stderr}`);
      await sleep(250);
    }
    const stopped = Date.now();
    build.kill('SIGTERM');
    expect(await closed).toBe(3);
    console.log(`shipway ended ${Date.now() - stopped} ms after SIGTERM`);
    expect(stderr).toContain('buildah bud was stopped: the build was interrupted');
    for (const deadline = Date.now() + 10_000; running().length > 0 && Date.now() < deadline; ) await sleep(250);
    expect(running()).toEqual([]);
  }, 300_000);
});
