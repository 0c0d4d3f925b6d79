import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import type { RegistryClient } from '../../src/adapters/registry/registry-client.js';
import { bufferBlob } from './blobs.js';

/**
 * A tiny program that answers every request with what it was started with: its argv (after the
 * program), its working directory and its environment. It listens on $PORT, as the pods of the
 * embedded cluster do.
 */
const PROBE = `const http = require('node:http');
http
  .createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ argv: process.argv.slice(2), cwd: process.cwd(), env: process.env }));
  })
  .listen(Number(process.env.PORT), '127.0.0.1');
`;

/** The layer, gzipped, and its diff_id (the digest of the uncompressed tar, which pulls verify). */
async function layer(): Promise<{ gzipped: Buffer; diffId: string }> {
  const tar = pack();
  // The host's Node runs the program: the image names it on its PATH, as a base image would.
  tar.entry({ name: 'usr/local/bin/node', type: 'symlink', linkname: process.execPath });
  tar.entry({ name: 'app/probe.js', mode: 0o644 }, PROBE);
  tar.entry({ name: 'app/package.json', mode: 0o644 }, '{"type":"commonjs"}');
  tar.entry({ name: 'srv/probe.js', type: 'symlink', linkname: '../app/probe.js' });
  tar.entry({ name: 'srv/package.json', mode: 0o644 }, '{"type":"commonjs"}');
  tar.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of tar) chunks.push(Buffer.from(chunk as Uint8Array));
  const tarball = Buffer.concat(chunks);
  return { gzipped: gzipSync(tarball), diffId: `sha256:${createHash('sha256').update(tarball).digest('hex')}` };
}

/**
 * Pushes the probe image as `<repository>:probe` and returns its digest reference. Its config:
 * Entrypoint ["node"], Cmd ["probe.js", "from-image-cmd"], WorkingDir /app, and an Env of its own.
 */
export async function pushProbeImage(client: RegistryClient, repository: string): Promise<string> {
  const { gzipped, diffId } = await layer();
  const config = bufferBlob(
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: {
          Entrypoint: ['node'],
          Cmd: ['probe.js', 'from-image-cmd'],
          WorkingDir: '/app',
          Env: ['PATH=/usr/local/bin:/usr/bin:/bin', 'FROM_IMAGE=image', 'GREETING=from-image'],
        },
        rootfs: { type: 'layers', diff_ids: [diffId] },
      }),
    ),
  );
  const blob = bufferBlob(gzipped);
  for (const item of [config, blob]) await client.uploadBlob(repository, item);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.size },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: blob.digest, size: blob.size }],
    }),
  );
  const digest = bufferBlob(manifest).digest;
  await client.putManifest(repository, 'probe', manifest, 'application/vnd.oci.image.manifest.v1+json');
  return `${client.registry}/${repository}:probe@${digest}`;
}
