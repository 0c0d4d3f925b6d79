import { describe, expect, it } from 'vitest';
import { assembleImage, mergeEnv } from './assemble-image.js';

const layer = (n: number) => ({
  digest: `sha256:${String(n).repeat(64)}`,
  diffId: `sha256:${String(n + 1).repeat(64)}`,
  size: n * 10,
  createdBy: `layer ${n}`,
});
const input = {
  baseConfig: {
    architecture: 'amd64',
    os: 'linux',
    config: { Env: ['PATH=/bin', 'NODE_ENV=development'], Labels: { base: 'yes' } },
    rootfs: { type: 'layers' as const, diff_ids: [layer(1).diffId] },
  },
  baseLayers: [layer(1)],
  layers: [layer(3), layer(5)],
  created: '2026-01-01T00:00:00.000Z',
  runtime: {
    user: '1000:1000',
    workingDir: '/app',
    env: ['NODE_ENV=production'],
    exposedPorts: ['8080/tcp'],
    entrypoint: [],
    cmd: ['node', 'dist/server.js'],
    labels: { 'org.opencontainers.image.version': '1.0.0' },
  },
};

describe('assembleImage', () => {
  it('lists base and own layers in order, with diff_ids and merged env and labels', () => {
    const image = assembleImage(input);
    const config = JSON.parse(image.config.toString());
    expect(config.rootfs.diff_ids).toEqual([layer(1).diffId, layer(3).diffId, layer(5).diffId]);
    expect(config.config.Env).toEqual(['PATH=/bin', 'NODE_ENV=production']);
    expect(config.config.Labels).toEqual({ base: 'yes', 'org.opencontainers.image.version': '1.0.0' });
    const manifest = JSON.parse(image.manifest.toString());
    expect(manifest.config.digest).toBe(image.configDigest);
    expect(manifest.layers.map((entry: { digest: string }) => entry.digest)).toEqual([
      layer(1).digest,
      layer(3).digest,
      layer(5).digest,
    ]);
  });

  it('is deterministic: equal inputs give byte-equal manifests; a changed layer changes the digest', () => {
    expect(assembleImage(input).manifestDigest).toBe(assembleImage(structuredClone(input)).manifestDigest);
    expect(assembleImage({ ...input, layers: [layer(3), layer(7)] }).manifestDigest).not.toBe(
      assembleImage(input).manifestDigest,
    );
  });

  it('mergeEnv keeps first positions and takes later values', () => {
    expect(mergeEnv(['A=1', 'B=2'], ['A=3', 'C=4'])).toEqual(['A=3', 'B=2', 'C=4']);
  });
});
