import { execFileSync } from 'node:child_process';
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pullAndUnpack } from '../src/adapters/image/unpack-image.js';
import { RegistryClient } from '../src/adapters/registry/registry-client.js';
import { parseShipwayConfig } from '../src/core/config/shipway-config.js';
import { createRegistryServer } from '../src/local/registry/registry-server.js';
import { cloneRepo, type RepoClone } from './support/repo-clone.js';
import { runImage } from './support/run-image.js';
import { shipway } from './support/run-shipway.js';

let server: FastifyInstance;
let host: string;
let clone: RepoClone;
let first: { tag: string; digest: string; ref: string; push: string };
let firstRun: { stdout: string; stderr: string };

beforeAll(async () => {
  clone = cloneRepo();
  server = await createRegistryServer({ dir: join(clone.dir, '..', 'registry') });
  host = new URL(await server.listen({ port: 0, host: '127.0.0.1' })).host;
  const run = await shipway(
    clone.dir,
    ['image', 'build', '--base', 'host', '--push', '--dotenv', 'build.env', '--json'],
    { AWS_REPOSITORY: `${host}/hello` },
  );
  if (run.code !== 0) throw new Error(run.stderr);
  first = JSON.parse(run.stdout);
  firstRun = run;
}, 180_000);
afterAll(async () => {
  await server.close();
  clone.cleanup();
});

describe('shipway image build --base host --push', () => {
  it('pushes the image under its input-hash tag and writes the dotenv for GitLab', async () => {
    expect(first.push).toBe('pushed');
    expect(first.tag).toMatch(/^src-[0-9a-f]{16}$/);
    expect(await new RegistryClient(host).resolveTag('hello', first.tag)).toBe(first.digest);
    expect(readFileSync(join(clone.dir, 'build.env'), 'utf8')).toBe(
      `IMAGE_REPOSITORY=${host}/hello\nIMAGE_TAG=${first.tag}\nIMAGE_DIGEST=${first.digest}\nIMAGE_REF=${host}/hello:${first.tag}@${first.digest}\n`,
    );
    expect(firstRun.stderr).toContain('building');
  });

  it('pulled back and unpacked, the image runs the service: GET / answers Hello world', async () => {
    const image = await pullAndUnpack(new RegistryClient(host), 'hello', first.digest, join(clone.dir, '..', 'pulled'));
    expect(image.layers).toBe(3);
    expect(image.config.config).toMatchObject({
      User: '1000:1000',
      WorkingDir: '/app',
      ExposedPorts: { '8080/tcp': {} },
      Cmd: ['node', 'dist/server.js'],
    });
    expect(image.config.config.Env).toEqual(expect.arrayContaining(['NODE_ENV=production']));
    // The revision is the last commit that changed build.inputs (not HEAD): same inputs, same image.
    const inputs = parseShipwayConfig(readFileSync(join(clone.dir, 'shipway.yaml'), 'utf8')).build.inputs;
    const inputsCommit = (await import('node:child_process'))
      .execFileSync('git', ['log', '-1', '--format=%H', '--', ...inputs], { cwd: clone.dir, encoding: 'utf8' })
      .trim();
    expect(image.config.config.Labels).toMatchObject({
      'org.opencontainers.image.revision': inputsCommit,
      'org.opencontainers.image.version': '1.0.0',
      'org.opencontainers.image.title': 'hello',
    });
    const { child, address } = await runImage(image);
    try {
      const response = await fetch(`${address}/`);
      expect(await response.text()).toBe('Hello world');
      expect(((await (await fetch(`${address}/version`)).json()) as { version: string }).version).toBe('1.0.0');
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('a second build of the same inputs finds the tag already published and uploads nothing', async () => {
    const run = await shipway(clone.dir, ['image', 'build', '--base', 'host', '--push'], {
      AWS_REPOSITORY: `${host}/hello`,
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`already published: ${first.ref}\n`);
    expect(run.stderr).not.toMatch(/uploaded/);
  });

  it('a one-line code change gets a new tag and re-uploads only the app layer', async () => {
    const file = join(clone.dir, 'service/src/create-server.ts');
    writeFileSync(file, `${readFileSync(file, 'utf8')}\n// a one-line change\n`);
    const run = await shipway(clone.dir, ['image', 'build', '--base', 'host', '--push', '--json'], {
      AWS_REPOSITORY: `${host}/hello`,
    });
    expect(run.code).toBe(0);
    const second = JSON.parse(run.stdout);
    expect(second.tag).not.toBe(first.tag);
    expect(run.stderr.match(/^uploaded /gm)).toHaveLength(2); // the app layer and the config
    expect(second.layers.slice(0, 2)).toEqual(JSON.parse(firstRun.stdout).layers.slice(0, 2));
  }, 120_000);
});

describe('reproducible builds', () => {
  it('two clones of the same commit, at different paths with different file times, build the same digest', async () => {
    const other = cloneRepo('shipway-other-clone-');
    try {
      const later = Date.now() / 1000 + 3600;
      for (const file of ['service/src/server.ts', 'service/package.json', 'package-lock.json'])
        utimesSync(join(other.dir, file), later, later);
      const run = await shipway(other.dir, ['image', 'build', '--base', 'host', '--json'], {
        AWS_REPOSITORY: `${host}/hello`,
      });
      expect(run.code, run.stderr).toBe(0);
      const result = JSON.parse(run.stdout);
      expect(result.push).toBe('not-pushed');
      expect(result.tag).toBe(first.tag);
      expect(result.digest).toBe(first.digest);
    } finally {
      other.cleanup();
    }
  }, 180_000);

  it('--prebuilt takes build.output as the build job left it: nothing compiled, the same digest', async () => {
    const other = cloneRepo('shipway-prebuilt-clone-');
    const env = { AWS_REPOSITORY: `${host}/hello` };
    try {
      const missing = await shipway(other.dir, ['image', 'build', '--base', 'host', '--prebuilt'], env);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain('--prebuilt: service/dist does not exist');
      // What the pipeline's build job runs; publish receives service/dist as its artifacts.
      execFileSync('npm', ['run', 'build', '--silent'], { cwd: join(other.dir, 'service') });
      const run = await shipway(other.dir, ['image', 'build', '--base', 'host', '--prebuilt', '--json'], env);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).not.toContain('npm run build');
      expect(JSON.parse(run.stdout).digest).toBe(first.digest);
    } finally {
      other.cleanup();
    }
  }, 180_000);
});
