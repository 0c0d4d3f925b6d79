import { execFileSync, spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistryServer } from '../src/local/registry/registry-server.js';
import { git, REPO_ROOT } from './support/git-fixture.js';
import { type GitHttpServer, startGitHttpServer } from './support/git-http-server.js';
import { cloneRepo, type RepoClone } from './support/repo-clone.js';
import { shipway } from './support/run-shipway.js';

// shipway's tool image (issue 13, "What must be shown" 5): built by `shipway image build-tool`
// from the tarball `npm pack -w shipway` writes, pushed, pulled back with `shipway image pull`,
// and run from its unpacked root alone: `shipway --version` and git over HTTP.
interface Built {
  ref: string;
  tag: string;
  digest: string;
  push: string;
  versions: { shipway: string; node: string; git: string };
  paths: { package: string; bin: string; node: string };
  compressedSize: number;
}

let root: string;
let clone: RepoClone;
let registry: FastifyInstance;
let host: string;
let tarball: string;
let built: Built;
let rootfs: string;
let gitServer: GitHttpServer | undefined;

async function buildTool(): Promise<Built> {
  const run = await shipway(clone.dir, [
    'image',
    'build-tool',
    '--tarball',
    tarball,
    '--repository',
    `${host}/platform/shipway/shipway`,
    '--push',
    '--json',
  ]);
  if (run.code !== 0) throw new Error(run.stderr);
  return JSON.parse(run.stdout) as Built;
}

/** One program run to its end, without blocking this process (the test's Git server answers in it). */
function runProgram(program: string, args: string[], env: NodeJS.ProcessEnv): Promise<ImageRun & { error?: Error }> {
  return new Promise((resolve) => {
    const child = spawn(program, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', (error) => resolve({ status: null, stdout, stderr: String(error), error }));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

interface ImageRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a program of the unpacked image with its root as `/`, as a container runtime would: in a
 * user and mount namespace (no privileges needed where user namespaces are allowed) with the
 * host's /dev bound in (git opens /dev/null), then chrooted; else `chroot` as root. Nothing of the
 * host's filesystem but /dev is visible, so the image's own Node, modules and libraries are the
 * only ones there are.
 */
async function inImage(argv: string[]): Promise<ImageRun> {
  const env = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root' };
  mkdirSync(join(rootfs, 'dev'), { recursive: true });
  const withDev = 'mount --rbind /dev "$0/dev" && exec chroot "$0" "$@"';
  const attempts: [string, string[]][] = [
    ['unshare', ['--user', '--map-root-user', '--mount', 'sh', '-c', withDev, rootfs, ...argv]],
    ['chroot', [rootfs, ...argv]],
  ];
  let last: ImageRun = { status: null, stdout: '', stderr: 'no way to change the root directory here' };
  for (const [program, args] of attempts) {
    const result = await runProgram(program, args, env);
    last = { status: result.status, stdout: result.stdout, stderr: result.stderr };
    if (result.error === undefined && !/unshare failed|cannot change root|Operation not permitted/.test(last.stderr))
      return last;
  }
  return last;
}

/** Bytes of every regular file under `dir` (a hard-linked file counted once). */
function unpackedBytes(dir: string): number {
  const seen = new Set<number>();
  let total = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const info = lstatSync(join(entry.parentPath, entry.name));
    if (!info.isFile() || seen.has(info.ino)) continue;
    seen.add(info.ino);
    total += info.size;
  }
  return total;
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'shipway-tool-image-'));
  clone = cloneRepo('shipway-tool-clone-');
  const packed = execFileSync('npm', ['pack', '-w', 'shipway', '--pack-destination', root, '--silent'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  tarball = join(root, packed.trim().split('\n').pop() ?? '');
  registry = await createRegistryServer({ dir: join(root, 'registry') });
  host = new URL(await registry.listen({ port: 0, host: '127.0.0.1' })).host;
  built = await buildTool();
  const pulled = await shipway(clone.dir, ['image', 'pull', built.ref, '--to', join(root, 'pulled'), '--json']);
  if (pulled.code !== 0) throw new Error(pulled.stderr);
  rootfs = (JSON.parse(pulled.stdout) as { rootfs: string }).rootfs;
}, 600_000);

afterAll(async () => {
  await gitServer?.close();
  await registry?.close();
  clone?.cleanup();
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
}, 60_000);

describe('shipway image build-tool', () => {
  it('pushes the packed shipway as an image tagged with its version', () => {
    const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'shipway/package.json'), 'utf8')) as { version: string })
      .version;
    expect(built.push).toBe('pushed');
    expect(built.tag).toBe(version);
    expect(built.versions.shipway).toBe(version);
    expect(built.ref).toBe(`${host}/platform/shipway/shipway:${version}@${built.digest}`);
  });

  it('pulled and unpacked, `shipway --version` runs from the image root alone', async () => {
    // The image's own files: npm's global layout for its Node, and no host node_modules above it.
    expect(existsSync(join(rootfs, built.paths.package, 'dist/cli/main.js'))).toBe(true);
    expect(existsSync(join(rootfs, built.paths.package, 'node_modules/commander/package.json'))).toBe(true);
    expect(lstatSync(join(rootfs, built.paths.bin)).isSymbolicLink()).toBe(true);
    const run = await inImage([built.paths.bin, '--version']);
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe(built.versions.shipway);
    expect(run.status).toBe(0);
    console.log(
      `tool image ${built.ref}: ${(built.compressedSize / 1024 / 1024).toFixed(1)} MiB compressed, ${(unpackedBytes(rootfs) / 1024 / 1024).toFixed(1)} MiB unpacked`,
    );
  });

  it("`npx shipway` finds the image's shipway as a global package, without the registry", async () => {
    const run = await inImage(['/bin/sh', '-c', 'cd /tmp && npx --offline shipway --version']);
    expect(run.stdout.trim(), run.stderr).toBe(built.versions.shipway);
  });

  it("its git runs, and talks HTTP to a Git server with the image's own helpers", async () => {
    expect((await inImage(['/usr/bin/git', '--version'])).stdout.trim()).toBe(`git version ${built.versions.git}`);
    const projects = join(root, 'git');
    git(root, 'init', '--quiet', '--bare', '--initial-branch=main', join(projects, 'hello.git'));
    git(join(projects, 'hello.git'), 'config', 'http.receivepack', 'true');
    gitServer = await startGitHttpServer(projects, 'secret-password');
    const url = gitServer.url.replace('://', '://ci:secret-password@');
    const run = await inImage(['/usr/bin/git', 'ls-remote', `${url}/hello.git`]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it('is reproducible: the same tarball builds the same digest', async () => {
    const again = await buildTool();
    expect(again.digest).toBe(built.digest);
    expect(again.push).toBe('already-published');
  }, 300_000);
});
