import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ociArchitecture } from '../../src/adapters/image/host-base.js';
import { pullAndUnpack } from '../../src/adapters/image/unpack-image.js';
import { RegistryClient } from '../../src/adapters/registry/registry-client.js';
import { parseShipwayConfig } from '../../src/core/config/shipway-config.js';
import { layerPath } from '../../src/core/image/layer-path.js';
import { decideProvenance, publicUrl } from '../../src/core/image/provenance.js';
import { createRegistryServer } from '../../src/local/registry/registry-server.js';
import { bufferBlob, type TestBlob } from '../support/blobs.js';
import { REPO_ROOT } from '../support/git-fixture.js';
import { type Entry, listTree, tarOf } from '../support/layer-tar.js';
import { cloneRepo, type RepoClone } from '../support/repo-clone.js';
import { shipway } from '../support/run-shipway.js';

const GIT_IDENTITY = {
  GIT_AUTHOR_NAME: 'test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
};

// Hostile and ordinary images, built here with tar-stream, pushed to an embedded registry, and
// pulled with `shipway image pull`. Decisions checked against containerd's archive/tar.go
// (applyNaive: names joined to the root, so absolute names are root-relative) and image-spec
// layer.md (whiteouts, opaque directories, "Changeset over existing files", hard links).

const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

let work: string;
let outside: string;
let server: FastifyInstance;
let host: string;
let client: RegistryClient;

/** Pushes an image of the given layers; `diffIds` overrides the config's rootfs.diff_ids. */
async function pushImage(tag: string, layers: Entry[][], diffIds?: string[]): Promise<string> {
  const tars = await Promise.all(layers.map(tarOf));
  const blobs: TestBlob[] = tars.map((tar) => bufferBlob(gzipSync(tar)));
  const config = bufferBlob(
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: { Cmd: ['/bin/app'], WorkingDir: '/app', Labels: { probe: tag } },
        rootfs: { type: 'layers', diff_ids: diffIds ?? tars.map(sha256) },
      }),
    ),
  );
  for (const blob of [config, ...blobs]) await client.uploadBlob('hostile', blob);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.size },
      layers: blobs.map((blob) => ({
        mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
        digest: blob.digest,
        size: blob.size,
      })),
    }),
  );
  return client.putManifest('hostile', tag, manifest, 'application/vnd.oci.image.manifest.v1+json');
}

/** Every path under `dir` (not following symlinks) with its type, size and link count. */
function snapshot(dir: string, skip: (path: string) => boolean): string[] {
  const out: string[] = [];
  const visit = (path: string) => {
    if (skip(path)) return;
    const info = lstatSync(path);
    // work itself changes when a --to under it comes and goes; everything else must not.
    if (path !== work)
      out.push(`${relative(work, path)} ${info.mode.toString(8)} ${info.size} ${info.nlink} ${info.mtimeMs}`);
    if (info.isDirectory()) for (const name of readdirSync(path).sort()) visit(join(path, name));
  };
  visit(dir);
  return out;
}

const registryDir = () => join(work, 'registry');
const outsideState = () => snapshot(work, (path) => path === registryDir() || path.startsWith(join(work, 'to-')));

/** The host files a hostile layer aims at, made afresh for each probe so that probes stay independent. */
function resetOutside(): void {
  rmSync(outside, { recursive: true, force: true });
  mkdirSync(outside);
  writeFileSync(join(outside, 'victim.txt'), 'original');
  writeFileSync(join(outside, 'secret.txt'), 'host secret');
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'shipway-hardening-image-'));
  outside = join(work, 'outside');
  server = await createRegistryServer({ dir: registryDir() });
  host = new URL(await server.listen({ port: 0, host: '127.0.0.1' })).host;
  client = new RegistryClient(host);
}, 60_000);
beforeEach(resetOutside);
afterAll(async () => {
  await server?.close();
  rmSync(work, { recursive: true, force: true });
});

const pull = (tag: string, to: string, ...extra: string[]) =>
  shipway(work, ['image', 'pull', `${host}/hostile:${tag}`, '--to', join(work, to), ...extra]);

describe('image pull refuses hostile layers and writes nothing outside --to', () => {
  const cases: { title: string; layers: () => Entry[][]; message: RegExp }[] = [
    {
      title: 'a symlink to a host directory, then a file through it',
      layers: () => [
        [
          { name: 'esc', symlink: outside },
          { name: 'esc/victim.txt', body: 'pwned' },
        ],
      ],
      message: /entry "esc\/victim\.txt" passes through the symlink "esc"/,
    },
    {
      title: 'a relative symlink out of the image, then a file through it',
      layers: () => [
        [
          { name: 'up', symlink: '../../../outside' },
          { name: 'up/victim.txt', body: 'pwned' },
        ],
      ],
      message: /entry "up\/victim\.txt" passes through the symlink "up"/,
    },
    {
      title: 'a hard link through a symlink to a host file',
      layers: () => [
        [
          { name: 'esc', symlink: outside },
          { name: 'stolen', hardlink: 'esc/secret.txt' },
        ],
      ],
      message: /hard link "stolen" -> "esc\/secret\.txt" passes through the symlink "esc"/,
    },
    {
      title: 'a hard link whose target climbs out with ..',
      layers: () => [[{ name: 'stolen', hardlink: '../../../outside/secret.txt' }]],
      message: /hard link "stolen" -> "\.\.\/\.\.\/\.\.\/outside\/secret\.txt" points outside the image/,
    },
    {
      title: 'a name that climbs out with ..',
      layers: () => [[{ name: '../../../escaped.txt', body: 'pwned' }]],
      message: /entry "\.\.\/\.\.\/\.\.\/escaped\.txt" points outside the image/,
    },
    {
      title: 'an absolute name with .. in it',
      layers: () => [[{ name: '/../../../escaped.txt', body: 'pwned' }]],
      message: /entry "\/\.\.\/\.\.\/\.\.\/escaped\.txt" points outside the image/,
    },
    {
      title: 'a name that passes through a file of the same layer',
      layers: () => [
        [
          { name: 'plain', body: 'a file' },
          { name: 'plain/child', body: 'x' },
        ],
      ],
      message: /entry "plain\/child" passes through the file "plain"/,
    },
  ];

  for (const [index, probe] of cases.entries()) {
    it(`${probe.title}: exit 3 with one line, the sentinel untouched, nothing new outside --to`, async () => {
      const tag = `bad-${index}`;
      await pushImage(tag, probe.layers());
      const before = outsideState();
      const run = await pull(tag, `to-${tag}`);
      expect(run.code, run.stderr).toBe(3);
      expect(run.stdout).toBe('');
      const first = run.stderr.split('\n').find((line) => line.startsWith('shipway: ')) ?? '';
      expect(first).toMatch(new RegExp(`^shipway: layer sha256:[0-9a-f]{12}… of ${host}/hostile: `));
      expect(first).toMatch(probe.message);
      expect(run.stderr).toMatch(/\n {2}hint: the layer was crafted or corrupted/);
      expect(readFileSync(join(outside, 'victim.txt'), 'utf8')).toBe('original');
      expect(statSync(join(outside, 'secret.txt')).nlink).toBe(1);
      expect(outsideState()).toEqual(before);
      // --to did not exist before the pull, so a failed pull leaves it absent.
      expect(existsSync(join(work, `to-${tag}`))).toBe(false);
    });
  }

  it('a symlink in one layer and a file through it in the next: the upper directory hides the symlink (overlayfs), nothing is read or written through it', async () => {
    await pushImage('cross-layer', [
      [{ name: 'esc', symlink: outside }],
      [{ name: 'esc/victim.txt', body: 'inside the image' }],
    ]);
    const before = outsideState();
    const run = await pull('cross-layer', 'to-cross-layer');
    expect(run.code, run.stderr).toBe(0);
    const rootfs = join(work, 'to-cross-layer/rootfs');
    expect(lstatSync(join(rootfs, 'esc')).isDirectory()).toBe(true);
    expect(readdirSync(join(rootfs, 'esc'))).toEqual(['victim.txt']);
    expect(readFileSync(join(rootfs, 'esc/victim.txt'), 'utf8')).toBe('inside the image');
    expect(readFileSync(join(outside, 'victim.txt'), 'utf8')).toBe('original');
    expect(outsideState()).toEqual(before);
  });

  it('absolute names are relative to the image root, as containerd applies them: a host path as a name lands inside --to', async () => {
    await pushImage('absolute', [[{ name: `${outside}/victim.txt`, body: 'inside the image' }]]);
    const before = outsideState();
    const run = await pull('absolute', 'to-absolute');
    expect(run.code, run.stderr).toBe(0);
    const inside = join(work, 'to-absolute/rootfs', outside, 'victim.txt');
    expect(readFileSync(inside, 'utf8')).toBe('inside the image');
    expect(readFileSync(join(outside, 'victim.txt'), 'utf8')).toBe('original');
    expect(outsideState()).toEqual(before);
  });

  it('a layer whose tar does not match the config diff_id: exit 3, nothing kept', async () => {
    await pushImage('wrong-diff-id', [[{ name: 'file', body: 'x' }]], [`sha256:${'1'.repeat(64)}`]);
    const run = await pull('wrong-diff-id', 'to-wrong-diff-id');
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/unpacks to sha256:[0-9a-f]{64}, but the config says sha256:1{64}/);
    expect(existsSync(join(work, 'to-wrong-diff-id'))).toBe(false);
  });
});

describe("the cluster's pull: layers merged through the shared layer cache", () => {
  it('an upper directory merges with a lower directory the cache carried as a link, and hides an image symlink of the same name', async () => {
    const digest = await pushImage('shared-merge', [
      [
        { name: 'usr/share/a', body: 'from layer 1' },
        { name: 'esc', symlink: outside },
      ],
      // usr/ is only in layer 1 here, so the chain of layers 1-2 carries it as a link into layer 1.
      [{ name: 'etc/x', body: 'from layer 2' }],
      [
        { name: 'usr/share/b', body: 'from layer 3' },
        { name: 'esc/victim.txt', body: 'inside the image' },
      ],
    ]);
    const before = outsideState();
    const image = await pullAndUnpack(client, 'hostile', digest, join(work, 'shared'), join(work, 'shared-cache'));
    expect(readdirSync(join(image.rootfs, 'usr/share')).sort()).toEqual(['a', 'b']);
    expect(readFileSync(join(image.rootfs, 'usr/share/a'), 'utf8')).toBe('from layer 1');
    expect(readFileSync(join(image.rootfs, 'etc/x'), 'utf8')).toBe('from layer 2');
    expect(lstatSync(join(image.rootfs, 'esc')).isDirectory()).toBe(true);
    expect(readdirSync(join(image.rootfs, 'esc'))).toEqual(['victim.txt']);
    expect(readFileSync(join(outside, 'victim.txt'), 'utf8')).toBe('original');
    expect(outsideState().filter((line) => !line.startsWith('shared'))).toEqual(before);
  });
});

describe('image pull: a good image', () => {
  const base: Entry[] = [
    { name: 'usr/bin/', dir: true },
    { name: 'usr/bin/tool', body: 'tool v1', mode: 0o755 },
    { name: 'usr/bin/su-like', body: 'set-uid in the image', mode: 0o4755 },
    { name: 'usr/share/doc/readme', body: 'only in the base' },
    { name: 'bin', symlink: 'usr/bin' },
    { name: 'lib/abs-link', symlink: '/usr/bin/tool' },
    { name: 'etc/os-release', body: 'base' },
    { name: 'etc/gone', body: 'deleted by a whiteout' },
    { name: 'etc/conf/old', body: 'hidden by an opaque whiteout' },
  ];
  const app: Entry[] = [
    { name: 'app/main.js', body: 'main' },
    { name: 'app/main-link.js', hardlink: 'app/main.js' },
    { name: 'etc/.wh.gone', body: '' },
    { name: 'etc/conf/.wh..wh..opq', body: '' },
    { name: 'etc/conf/new', body: 'new' },
    { name: 'usr/bin/tool', body: 'tool v2', mode: 0o755 },
  ];
  let digest: string;
  beforeAll(async () => {
    digest = await pushImage('good', [base, app]);
  });

  it('writes rootfs, config.json and manifest.json into --to: layers applied in order, links kept, nothing pointing into a cache', async () => {
    const run = await pull('good', 'to-good', '--json');
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    const dir = join(work, 'to-good');
    expect(result).toMatchObject({
      ref: `${host}/hostile:good@${digest}`,
      digest,
      dir,
      rootfs: join(dir, 'rootfs'),
      config: join(dir, 'config.json'),
      manifest: join(dir, 'manifest.json'),
    });
    expect(result.layers).toHaveLength(2);
    expect(readdirSync(dir).sort()).toEqual(['config.json', 'manifest.json', 'rootfs']);
    const rootfs = join(dir, 'rootfs');
    expect(listTree(rootfs)).toEqual([
      'app/',
      'app/main-link.js',
      'app/main.js',
      'bin -> usr/bin',
      'etc/',
      'etc/conf/',
      'etc/conf/new',
      'etc/os-release',
      'lib/',
      'lib/abs-link -> /usr/bin/tool',
      'usr/',
      'usr/bin/',
      'usr/bin/su-like',
      'usr/bin/tool',
      'usr/share/',
      'usr/share/doc/',
      'usr/share/doc/readme',
    ]);
    expect(readFileSync(join(rootfs, 'usr/bin/tool'), 'utf8')).toBe('tool v2');
    expect(statSync(join(rootfs, 'usr/bin/tool')).mode & 0o777).toBe(0o755);
    // No set-id file lands on the host: the cluster runs images without namespaces.
    expect(statSync(join(rootfs, 'usr/bin/su-like')).mode & 0o7777).toBe(0o755);
    expect(readFileSync(join(rootfs, 'usr/share/doc/readme'), 'utf8')).toBe('only in the base');
    expect(statSync(join(rootfs, 'app/main-link.js')).ino).toBe(statSync(join(rootfs, 'app/main.js')).ino);
    const manifest = readFileSync(join(dir, 'manifest.json'));
    expect(sha256(manifest)).toBe(digest);
    expect(sha256(readFileSync(join(dir, 'config.json')))).toBe(JSON.parse(manifest.toString()).config.digest);
    expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).config.Labels).toEqual({ probe: 'good' });
  });

  it('by digest, into an existing empty directory, with a human summary on stdout', async () => {
    mkdirSync(join(work, 'to-by-digest'));
    const run = await shipway(work, ['image', 'pull', `${host}/hostile@${digest}`, '--to', 'to-by-digest']);
    expect(run.code, run.stderr).toBe(0);
    const dir = join(work, 'to-by-digest');
    expect(run.stdout).toBe(
      `pulled ${host}/hostile@${digest} (2 layers)\n  ${dir}/rootfs\n  ${dir}/config.json\n  ${dir}/manifest.json\n`,
    );
    expect(readFileSync(join(dir, 'rootfs/etc/conf/new'), 'utf8')).toBe('new');
  });

  it("a multi-platform index resolves to this machine's linux image (the other platform's is hostile)", async () => {
    const manifestOf = async (tag: string) => {
      const fetched = await client.getManifest('hostile', tag);
      if (fetched === undefined) throw new Error(`no ${tag}`);
      return { mediaType: fetched.mediaType, digest: fetched.digest, size: fetched.bytes.length };
    };
    await pushImage('other-platform', [
      [
        { name: 'esc', symlink: outside },
        { name: 'esc/victim.txt', body: 'pwned' },
      ],
    ]);
    const other = process.arch === 'arm64' ? 'amd64' : 'arm64';
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          { ...(await manifestOf('other-platform')), platform: { os: 'linux', architecture: other } },
          { ...(await manifestOf('good')), platform: { os: 'linux', architecture: ociArchitecture(process.arch) } },
        ],
      }),
    );
    await client.putManifest('hostile', 'multi', index, 'application/vnd.oci.image.index.v1+json');
    const run = await pull('multi', 'to-multi', '--json');
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).digest).toBe(digest);
    expect(readFileSync(join(work, 'to-multi/rootfs/etc/conf/new'), 'utf8')).toBe('new');
  });

  it('refuses a --to that is not empty (exit 2) and touches nothing in it', async () => {
    const dir = join(work, 'to-not-empty');
    mkdirSync(dir);
    writeFileSync(join(dir, 'keep.txt'), 'mine');
    const run = await pull('good', 'to-not-empty');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^shipway: --to .*to-not-empty is not an empty directory\n {2}hint: /);
    expect(readdirSync(dir)).toEqual(['keep.txt']);
  });

  it('an unknown tag: exit 3, --to left absent', async () => {
    const run = await pull('no-such-tag', 'to-missing');
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(new RegExp(`^shipway: ${host}/hostile:no-such-tag was not found$`, 'm'));
    expect(existsSync(join(work, 'to-missing'))).toBe(false);
  });

  it('a registry whose Docker-Content-Digest does not match the manifest it serves: exit 3', async () => {
    // A proxy in front of the real registry that lies about the digest of every manifest.
    const liar: Server = createServer((request, response) => {
      void (async () => {
        const upstream = await fetch(`http://${host}${request.url}`, {
          method: request.method ?? 'GET',
          headers: { accept: String(request.headers.accept ?? '*/*') },
        });
        const body = Buffer.from(await upstream.arrayBuffer());
        const headers: Record<string, string> = {};
        upstream.headers.forEach((value, key) => {
          if (!['content-encoding', 'transfer-encoding', 'connection'].includes(key)) headers[key] = value;
        });
        if (request.url?.includes('/manifests/')) headers['docker-content-digest'] = `sha256:${'0'.repeat(64)}`;
        response.writeHead(upstream.status, headers).end(body);
      })();
    });
    await new Promise<void>((resolve) => liar.listen(0, '127.0.0.1', resolve));
    try {
      const port = (liar.address() as AddressInfo).port;
      const run = await shipway(work, ['image', 'pull', `127.0.0.1:${port}/hostile:good`, '--to', 'to-liar']);
      expect(run.code).toBe(3);
      expect(run.stderr).toMatch(
        /^shipway: manifest hostile:good from 127\.0\.0\.1:\d+ hashed to sha256:[0-9a-f]{64}, but the registry says sha256:0{64}$/m,
      );
      expect(existsSync(join(work, 'to-liar'))).toBe(false);
    } finally {
      await new Promise((resolve) => liar.close(resolve));
    }
  });
});

describe('image build: the content tag names one image', () => {
  // Its own registry, counting requests through the server's onRequest hook.
  let registry: FastifyInstance;
  let registryHost: string;
  const requests: { method: string; path: string }[] = [];
  let a: RepoClone;
  let b: RepoClone;
  const env = (extra: Record<string, string> = {}) => ({ AWS_REPOSITORY: `${registryHost}/hello`, ...extra });
  const build = async (clone: RepoClone, flags: string[], extra: Record<string, string> = {}) => {
    const run = await shipway(clone.dir, ['image', 'build', '--base', 'host', '--json', ...flags], env(extra));
    if (run.code !== 0) throw new Error(run.stderr);
    return { ...JSON.parse(run.stdout), stderr: run.stderr } as {
      tag: string;
      digest: string;
      ref: string;
      push: string;
      layers: { digest: string }[];
      stderr: string;
    };
  };
  /** A commit made a day after the clone's HEAD, so that a commit time that leaks into the image shows. */
  const commitLater = (clone: RepoClone, ...args: string[]) => {
    const head = Number(execFileSync('git', ['log', '-1', '--format=%ct'], { cwd: clone.dir, encoding: 'utf8' }));
    const date = `@${head + 86_400} +0000`;
    execFileSync('git', ['commit', '--quiet', ...args], {
      cwd: clone.dir,
      env: { ...process.env, ...GIT_IDENTITY, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date },
    });
  };
  const labelsOf = (clone: RepoClone, digest: string) => {
    const blob = (d: string) => readFileSync(join(clone.dir, '.shipway/oci/blobs/sha256', d.slice(7)), 'utf8');
    const config = blob(JSON.parse(blob(digest)).config.digest);
    return { text: config, labels: JSON.parse(config).config.Labels as Record<string, string> };
  };

  beforeAll(async () => {
    registry = await createRegistryServer({
      dir: join(work, 'build-registry'),
      onRequest: (event) => requests.push(event),
    });
    registryHost = new URL(await registry.listen({ port: 0, host: '127.0.0.1' })).host;
    a = cloneRepo('shipway-repro-a-');
    b = cloneRepo('shipway-repro-b-');
    // a's origin is this repository's path on this machine; b's a GitLab URL with a token in it.
    execFileSync('git', ['remote', 'set-url', 'origin', 'https://ci:s3cret-token@gitlab.example.com/team/hello.git'], {
      cwd: b.dir,
    });
  }, 60_000);
  afterAll(async () => {
    await registry?.close();
    a?.cleanup();
    b?.cleanup();
  });

  let first: Awaited<ReturnType<typeof build>>;

  it('the same inputs after `git commit --allow-empty`, with another CI_COMMIT_SHA, and in a clone with another origin build one digest', async () => {
    first = await build(a, [], { CI_COMMIT_SHA: 'a'.repeat(40) });
    commitLater(a, '--allow-empty', '-m', 'an empty commit');
    const again = await build(a, [], { CI_COMMIT_SHA: 'b'.repeat(40) });
    expect(again.tag).toBe(first.tag);
    expect(again.layers).toEqual(first.layers);
    expect(again.digest).toBe(first.digest);
    const other = await build(b, []);
    expect(other.tag).toBe(first.tag);
    expect(other.digest).toBe(first.digest);
    // The revision is the inputs' last commit (not HEAD, not CI_COMMIT_SHA); no source label
    // without image.source or CI_PROJECT_URL, and neither a local path nor a token anywhere.
    const inputs = [
      'package-lock.json',
      'tsconfig.base.json',
      'service/package.json',
      'service/tsconfig.json',
      'service/src',
    ];
    const inputsCommit = execFileSync('git', ['log', '-1', '--format=%H', '--', ...inputs], {
      cwd: a.dir,
      encoding: 'utf8',
    }).trim();
    const { text, labels } = labelsOf(a, first.digest);
    expect(labels['org.opencontainers.image.revision']).toBe(inputsCommit);
    expect(labels).not.toHaveProperty('org.opencontainers.image.source');
    expect(text).not.toContain(REPO_ROOT.replace(/\/$/, ''));
    expect(text).not.toContain('s3cret-token');
    expect(text).not.toContain('a'.repeat(40));
  }, 300_000);

  it('pushed once, the same inputs pushed again from the other clone after its own empty commit: no compile, no build, no upload, the dotenv still written', async () => {
    const pushed = await build(a, ['--push']);
    expect(pushed).toMatchObject({ push: 'pushed', digest: first.digest });
    commitLater(b, '--allow-empty', '-m', 'another empty commit');
    requests.length = 0;
    const again = await build(b, ['--push', '--dotenv', 'build.env']);
    expect(again).toMatchObject({ push: 'already-published', tag: first.tag, digest: first.digest });
    expect(requests.filter((request) => request.method !== 'GET' && request.method !== 'HEAD')).toEqual([]);
    expect(requests.filter((request) => request.path.includes('/blobs/'))).toEqual([]);
    expect(again.stderr).not.toMatch(/building|layer:|uploaded/);
    expect(again.stderr).toContain(`is already published as ${first.digest}; nothing to build or push`);
    expect(readFileSync(join(b.dir, 'build.env'), 'utf8')).toBe(
      `IMAGE_REPOSITORY=${registryHost}/hello\nIMAGE_TAG=${first.tag}\nIMAGE_DIGEST=${first.digest}\nIMAGE_REF=${registryHost}/hello:${first.tag}@${first.digest}\n`,
    );
  }, 120_000);

  it('a committed code change gives new bytes to the app layer only; CI_PROJECT_URL becomes the source label without its credentials', async () => {
    const file = join(a.dir, 'service/src/create-server.ts');
    writeFileSync(file, `${readFileSync(file, 'utf8')}\n// a one-line change\n`);
    execFileSync('git', ['add', '-A'], { cwd: a.dir });
    commitLater(a, '-m', 'a code change');
    const changed = await build(a, [], {
      CI_PROJECT_URL: 'https://gitlab-ci-token:job-token@gitlab.example.com/team/hello',
    });
    expect(changed.tag).not.toBe(first.tag);
    expect(changed.layers.slice(0, 2)).toEqual(first.layers.slice(0, 2));
    expect(changed.layers[2]).not.toEqual(first.layers[2]);
    const { text, labels } = labelsOf(a, changed.digest);
    expect(labels['org.opencontainers.image.source']).toBe('https://gitlab.example.com/team/hello');
    expect(text).not.toContain('job-token');
  }, 120_000);
});

describe('provenance and image.source', () => {
  it('SOURCE_DATE_EPOCH wins; else the inputs commit; the source is image.source, else CI_PROJECT_URL without credentials', () => {
    const commit = { sha: 'c'.repeat(40), time: 1_700_000_000 };
    expect(
      decideProvenance({
        sourceDateEpoch: undefined,
        inputsCommit: commit,
        lockfileCommit: { time: 1_600_000_000 },
        configuredSource: undefined,
        projectUrl: 'https://user:pass@gitlab.example.com/g/p?x=1#y',
      }),
    ).toEqual({
      time: 1_700_000_000,
      dependenciesTime: 1_600_000_000,
      baseTime: 0,
      revision: commit.sha,
      source: 'https://gitlab.example.com/g/p',
    });
    expect(
      decideProvenance({
        sourceDateEpoch: '1234',
        inputsCommit: commit,
        lockfileCommit: undefined,
        configuredSource: 'https://example.com/hello',
        projectUrl: 'https://gitlab.example.com/g/p',
      }),
    ).toMatchObject({ time: 1234, dependenciesTime: 1234, baseTime: 1234, source: 'https://example.com/hello' });
    for (const local of ['/work/repo', 'file:///work/repo', 'git@gitlab.com:g/p.git', 'not a url'])
      expect(publicUrl(local)).toBeUndefined();
  });

  it('shipway.yaml image.source must be a plain http(s) URL', () => {
    const yaml = (source: string) =>
      readFileSync(join(REPO_ROOT, 'shipway.yaml'), 'utf8').replace(
        '  name: hello-service\n',
        `  name: hello-service\n  source: ${JSON.stringify(source)}\n`,
      );
    expect(parseShipwayConfig(yaml('https://gitlab.example.com/team/hello')).image.source).toBe(
      'https://gitlab.example.com/team/hello',
    );
    for (const bad of ['https://user:token@gitlab.example.com/team/hello', '/home/me/hello', 'ftp://x/y']) {
      expect(() => parseShipwayConfig(yaml(bad))).toThrow(
        expect.objectContaining({
          problems: ['image.source: must be an http(s) URL without user, password, query or fragment'],
        }),
      );
    }
  });
});

describe('layerPath: entry names', () => {
  it('drops leading slashes and ., cleans lexically, refuses what climbs out', () => {
    expect(layerPath('/etc/passwd')).toEqual({ ok: true, parts: ['etc', 'passwd'] });
    expect(layerPath('./a/./b/../c/')).toEqual({ ok: true, parts: ['a', 'c'] });
    expect(layerPath('./')).toEqual({ ok: true, parts: [] });
    expect(layerPath('a/../../b').ok).toBe(false);
    expect(layerPath('/../etc').ok).toBe(false);
    expect(layerPath('..').ok).toBe(false);
    expect(layerPath('a\0b').ok).toBe(false);
  });
});
