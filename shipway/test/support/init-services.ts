import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { git } from './git-fixture.js';

// The three services shipway/test/init.test.ts runs `shipway init` in, written here (small, not
// copied from anywhere): an Express 4 app like the original, a TypeScript Fastify app with a
// build step, and a plain node:http app without a lockfile or a remote.

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * A real process with the test's environment minus CI, npm and shipway variables that would
 * steer it, plus `extra` (a test's SHIPWAY_HOME).
 */
export function run(
  cwd: string,
  program: string,
  args: readonly string[],
  extra: Record<string, string> = {},
): Promise<Run> {
  const env = {
    ...Object.fromEntries(
      Object.entries(process.env).filter(
        ([name, value]) =>
          value !== undefined &&
          !/^(CI|CI_.*|GITLAB_.*|npm_.*|SHIPWAY_.*|XDG_STATE_HOME|AWS_REPOSITORY|KUBECONFIG)$/i.test(name),
      ),
    ),
    ...extra,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { cwd, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

export function write(dir: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
}

/**
 * A service repository written in `root/name`: its files, the shared node_modules hard-linked in
 * (what `npm i` would have put there), `git init`, and `origin` when given.
 */
export function service(root: string, name: string, files: Record<string, string>, remote?: string): string {
  const dir = join(root, name);
  write(dir, files);
  execFileSync('cp', ['-al', join(root, 'shared', 'node_modules'), join(dir, 'node_modules')]);
  git(dir, 'init', '--quiet', '--initial-branch=main');
  if (remote !== undefined) git(dir, 'remote', 'add', 'origin', remote);
  return dir;
}

const EXPRESS_APP = `const express = require('express');

const app = express();
app.get('/', (req, res) => res.type('text/plain').send('Hello world'));
app.listen(8080, () => console.log('listening on 8080'));
`;

const FASTIFY_APP = `import Fastify from 'fastify';

const app = Fastify({ logger: true });
app.get('/', async () => 'Hello world');
app.get('/healthz', async () => ({ status: 'ok' }));
app.get('/readyz', async () => ({ status: 'ready' }));

const port = Number(process.env.PORT ?? 3000);
await app.listen({ port, host: '0.0.0.0' });
`;

const HTTP_APP = `const http = require('node:http');

const port = process.env.PORT || 9000;
http.createServer((req, res) => res.end('Hello world')).listen(port);
`;

export interface Services {
  readonly tarball: string;
  readonly express: string;
  readonly fastify: string;
  readonly http: string;
}

export async function ok(result: Promise<Run>): Promise<void> {
  const { code, stderr } = await result;
  if (code !== 0) throw new Error(`exit ${code}: ${stderr}`);
}

/**
 * Packs shipway into `root` (npm pack -w shipway, as a release would) and installs the tarball
 * with the services' dependencies from the npm registry once, into root/shared/node_modules
 * (service() links them into each service). Returns the tarball's path.
 */
export async function packAndInstall(root: string, repoRoot: string): Promise<string> {
  const packed = execFileSync('npm', ['pack', '-w', 'shipway', '--pack-destination', root, '--silent'], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  const tarball = join(root, packed.trim().split('\n').pop() ?? '');
  const shared = join(root, 'shared');
  write(shared, { 'package.json': '{"name":"shared","private":true}' });
  await ok(
    run(shared, 'npm', [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '-D',
      tarball,
      'express@4',
      'fastify@5',
      'typescript@5',
      '@types/node@20',
    ]),
  );
  return tarball;
}

/** The lockfile `npm i` would have written, from the npm registry's metadata (cached after the first). */
export function lockfile(dir: string): Promise<void> {
  return ok(run(dir, 'npm', ['install', '--package-lock-only', '--prefer-offline', '--no-audit', '--no-fund']));
}

/**
 * Packs and installs shipway (packAndInstall), and writes the three services with the shared
 * node_modules hard-linked in.
 */
export async function createServices(root: string, repoRoot: string): Promise<Services> {
  const tarball = await packAndInstall(root, repoRoot);
  const dev = { shipway: `file:${tarball}` };
  const express = service(
    root,
    'hello-express',
    {
      'package.json': JSON.stringify({
        name: 'hello-express',
        version: '1.0.0',
        main: 'index.js',
        scripts: { start: 'node index.js', test: 'echo "Error: no test specified" && exit 1' },
        dependencies: { express: '^4.21.2' },
        devDependencies: dev,
      }),
      'index.js': EXPRESS_APP,
    },
    'https://gitlab.example.com/acme/hello-express.git',
  );
  const fastify = service(
    root,
    'orders-api',
    {
      'package.json': JSON.stringify({
        name: '@acme/Orders.API',
        version: '2.1.0',
        type: 'module',
        main: 'dist/server.js',
        scripts: { build: 'tsc', start: 'node dist/server.js', test: 'node --test' },
        dependencies: { fastify: '^5.0.0' },
        devDependencies: { ...dev, typescript: '^5.0.0', '@types/node': '^20.0.0' },
      }),
      'tsconfig.json': JSON.stringify({
        compilerOptions: { outDir: 'dist', rootDir: 'src', module: 'nodenext', target: 'es2022', strict: true },
      }),
      'src/server.ts': FASTIFY_APP,
    },
    'git@gitlab.example.com:acme/orders-api.git',
  );
  const http = service(root, 'plain-http', {
    'package.json': JSON.stringify({ name: 'plain-http', scripts: { start: 'node server.js' }, devDependencies: dev }),
    'server.js': HTTP_APP,
  });
  // The Express and Fastify services come with their lockfile, as after `npm i`; plain-http has none.
  for (const dir of [express, fastify]) await lockfile(dir);
  return { tarball, express, fastify, http };
}
