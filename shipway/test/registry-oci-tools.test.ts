import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../src/adapters/registry/registry-client.js';
import { type RegistryProcess, startRegistryProcess } from './support/start-registry-process.js';

// skopeo and buildah (Debian packages, installed by .ci/run) against `shipway registry serve`.
let work: string;
let registry: RegistryProcess;
const buildah = (...args: string[]) =>
  execFileSync(
    'buildah',
    ['--root', join(work, 'root'), '--runroot', join(work, 'runroot'), '--storage-driver', 'vfs', ...args],
    {
      encoding: 'utf8',
      env: { ...process.env, BUILDAH_ISOLATION: 'chroot' },
    },
  ).trim();
const skopeo = (...args: string[]) => execFileSync('skopeo', args, { encoding: 'utf8' }).trim();

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'shipway-oci-tools-'));
  registry = await startRegistryProcess(join(work, 'registry'));
  writeFileSync(join(work, 'hello.txt'), 'hello from buildah\n');
  const container = buildah('from', 'scratch');
  buildah('copy', container, join(work, 'hello.txt'), '/hello.txt');
  buildah('config', '--cmd', '["/hello"]', '--label', 'test=oci-tools', container);
  buildah('commit', '-q', container, 'localhost/tiny:1');
}, 120_000);
afterAll(async () => {
  await registry.stop();
  // buildah's vfs layers are owned by root but plain files; removing the tree is enough.
  rmSync(work, { recursive: true, force: true });
});

describe('real OCI clients ⇄ the embedded registry', () => {
  it('buildah pushes to it, skopeo inspects what it stored, shipway reads the same digest', async () => {
    buildah(
      'push',
      '--tls-verify=false',
      '--digestfile',
      join(work, 'digest'),
      'localhost/tiny:1',
      `docker://${registry.host}/tools/tiny:1`,
    );
    const pushed = readFileSync(join(work, 'digest'), 'utf8').trim();
    const inspected = JSON.parse(skopeo('inspect', '--tls-verify=false', `docker://${registry.host}/tools/tiny:1`));
    expect(inspected.Digest).toBe(pushed);
    expect(inspected.Labels).toMatchObject({ test: 'oci-tools' });
    expect(inspected.RepoTags).toEqual(['1']);
    expect(await new RegistryClient(registry.host).resolveTag('tools/tiny', '1')).toBe(pushed);
  });

  it('skopeo copies between repositories (mounting blobs) and out to an OCI layout, byte for byte', () => {
    skopeo(
      'copy',
      '--src-tls-verify=false',
      '--dest-tls-verify=false',
      `docker://${registry.host}/tools/tiny:1`,
      `docker://${registry.host}/tools/copy:2`,
    );
    const a = JSON.parse(skopeo('inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/tools/tiny:1`));
    const b = JSON.parse(skopeo('inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/tools/copy:2`));
    expect(b).toEqual(a);
    skopeo(
      'copy',
      '--src-tls-verify=false',
      `docker://${registry.host}/tools/copy:2`,
      `oci:${join(work, 'layout')}:copy`,
    );
    const index = JSON.parse(readFileSync(join(work, 'layout/index.json'), 'utf8'));
    expect(index.manifests[0].annotations['org.opencontainers.image.ref.name']).toBe('copy');
  });

  it('buildah pulls it back and the file is in the image', () => {
    buildah('rmi', '-a', '-f');
    buildah('pull', '-q', '--tls-verify=false', `docker://${registry.host}/tools/copy:2`);
    const container = buildah('from', `${registry.host}/tools/copy:2`);
    const mount = buildah('mount', container);
    expect(readFileSync(join(mount, 'hello.txt'), 'utf8')).toBe('hello from buildah\n');
    buildah('umount', container);
  });
});
