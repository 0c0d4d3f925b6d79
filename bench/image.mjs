// npm run bench:image — shipway's daemonless build+push against buildah bud + buildah push of
// service/Dockerfile, on the same host-made base and the same embedded registry, cold and warm
// (after a one-line code change); then push throughput and peak memory for large blobs.
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRegistryServer } from '../shipway/dist/local/registry/registry-server.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'shipway/bin/shipway.js');
const work = mkdtempSync(join(tmpdir(), 'shipway-bench-image-'));
const repo = join(work, 'repo');
execFileSync('git', ['clone', '--quiet', root, repo]);
symlinkSync(join(root, 'node_modules'), join(repo, 'node_modules'));

const server = await createRegistryServer({ dir: join(work, 'registry') });
const host = new URL(await server.listen({ port: 0, host: '127.0.0.1' })).host;
const env = { ...process.env, AWS_REPOSITORY: `${host}/hello` };

function timed(program, args, options = {}) {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.stderr.on('data', (chunk) => {
      out += chunk;
    });
    child.on('close', (code) =>
      code === 0
        ? resolve({ ms: performance.now() - started, out })
        : reject(new Error(`${program} ${args.join(' ')} exited ${code}\n${out}`)),
    );
  });
}
const change = (n) => appendFileSync(join(repo, 'service/src/create-server.ts'), `\n// bench change ${n}\n`);
const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`;

try {
  // The base both builds use: this machine's Node, published once to the registry; then the
  // layout is cleared so shipway's cold build starts with no cache at all.
  const { publishHostBase } = await import('../shipway/dist/app/publish-host-base.js');
  const baseRef = await publishHostBase({ cwd: repo, env, progress: () => {} }, `${host}/hello`);
  rmSync(join(repo, '.shipway/oci'), { recursive: true, force: true });

  const shipwayCold = await timed(process.execPath, [bin, 'image', 'build', '--base', baseRef, '--push']);
  change(1);
  const shipwayWarm = await timed(process.execPath, [bin, 'image', 'build', '--base', baseRef, '--push']);

  const storage = [
    '--root',
    join(work, 'buildah/root'),
    '--runroot',
    join(work, 'buildah/run'),
    '--storage-driver',
    'vfs',
  ];
  const bud = (tag) => [
    ...storage,
    'bud',
    '--quiet',
    '--layers',
    '--isolation',
    'chroot',
    '--tls-verify=false',
    '--build-arg',
    `BASE_IMAGE=${baseRef}`,
    '--secret',
    `id=npm_ca,src=${process.env.NODE_EXTRA_CA_CERTS ?? '/etc/ssl/certs/ca-certificates.crt'}`,
    '--ignorefile',
    'service/.dockerignore',
    '-f',
    'service/Dockerfile',
    '-t',
    `localhost/bench:${tag}`,
    '.',
  ];
  const push = (tag) => [
    ...storage,
    'push',
    '--quiet',
    '--tls-verify=false',
    `localhost/bench:${tag}`,
    `docker://${host}/hello-buildah:${tag}`,
  ];
  const budCold = await timed('buildah', bud('cold'));
  const pushCold = await timed('buildah', push('cold'));
  change(2);
  const budWarm = await timed('buildah', bud('warm'));
  const pushWarm = await timed('buildah', push('warm'));
  const buildahCold = budCold.ms + pushCold.ms;
  const buildahWarm = budWarm.ms + pushWarm.ms;

  console.log('build + push of the hello service, same host base, same embedded registry (2 cores):');
  console.log(
    `  shipway image build --push   cold ${seconds(shipwayCold.ms)}   warm (one-line change) ${seconds(shipwayWarm.ms)}`,
  );
  console.log(
    `  buildah bud --layers + push  cold ${seconds(buildahCold)} (bud ${seconds(budCold.ms)})   warm ${seconds(buildahWarm)} (bud ${seconds(budWarm.ms)})`,
  );
  console.log(`  warm ratio buildah/shipway   ${(buildahWarm / shipwayWarm.ms).toFixed(1)}x   (target >= 5x)`);
  console.log(`  cold ratio buildah/shipway   ${(buildahCold / shipwayCold.ms).toFixed(1)}x`);

  for (const mib of [64, 256]) {
    // Async: the registry answering this upload runs in this process.
    const result = await timed(process.execPath, [
      join(root, 'bench/push-blob.mjs'),
      host,
      String(mib),
      join(work, `blob-${mib}`),
    ]);
    console.log(`  push of a ${mib} MiB blob: ${result.out.trim()}`);
  }
} finally {
  await server.close();
  rmSync(work, { recursive: true, force: true });
}
