import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { LayerDescriptor } from '../../core/image/assemble-image.js';
import type { ImageConfig } from '../../core/oci/manifest.js';
import { cachedLayer } from './cached-layer.js';
import { fingerprint, hostPathEntries, sharedLibraries } from './host-files.js';
import type { OciLayout } from './oci-layout.js';
import type { LayerEntry } from './tar-layer.js';

export interface BaseImage {
  readonly config: ImageConfig;
  readonly layers: readonly LayerDescriptor[];
  /** Where the base's layers can be mounted from when pushing to the same registry. */
  readonly source?: { readonly registry: string; readonly repository: string };
}

// A shell and the few tools a Dockerfile's RUN lines need, so the same base also serves
// `buildah bud` of service/Dockerfile; the Node runtime itself needs none of them.
const TOOLS = ['/bin/sh', '/bin/rm', '/bin/mkdir', '/usr/bin/env'];
const PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const ETC: readonly LayerEntry[] = [
  {
    path: 'etc/passwd',
    type: 'file',
    executable: false,
    content: Buffer.from('root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n'),
  },
  { path: 'etc/group', type: 'file', executable: false, content: Buffer.from('root:x:0:\nnode:x:1000:\n') },
  { path: 'tmp', type: 'directory', mode: 0o1777 },
  { path: 'root', type: 'directory', mode: 0o700 },
  { path: 'home/node', type: 'directory', mode: 0o755 },
];

export function ociArchitecture(arch: string): string {
  return (
    ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' } as Record<string, string>)[arch] ??
    arch
  );
}

/**
 * `--base host`: a minimal Node runtime base made from the machine's own Node binary, npm, a
 * shell, and the shared libraries they load, for machines that cannot pull a base image.
 * Cached by the host files' sizes and mtimes, so it is built once per Node installation.
 */
export async function hostBase(layout: OciLayout, mtime: number, created: string): Promise<BaseImage> {
  const node = realpathSync(process.execPath);
  const npm = join(dirname(node), '../lib/node_modules/npm');
  const npmLinks = ['npm', 'npx']
    .map((name) => join(dirname(process.execPath), name))
    .filter((path) => existsSync(path));
  const programs = [node, ...TOOLS.filter((tool) => existsSync(tool))];
  const libraries = [...new Set((await Promise.all(programs.map(sharedLibraries))).flat())].sort();
  const extra = existsSync(npm) ? [npm, ...npmLinks] : [];
  const key = `host-base\n${await fingerprint([...programs, ...libraries])}\n${extra.join('\n')}\nnpm ${existsSync(npm) ? await fingerprint([join(npm, 'package.json')]) : '-'}`;
  const layer = await cachedLayer(layout, key, mtime, async () => [
    ...(await hostPathEntries([...programs, ...libraries, ...extra])),
    ...ETC,
  ]);
  return {
    config: {
      architecture: ociArchitecture(process.arch),
      os: 'linux',
      config: { Env: [PATH, `NODE_VERSION=${process.versions.node}`] },
      rootfs: { type: 'layers', diff_ids: [layer.diffId] },
      history: [{ created, created_by: `shipway: host base (node ${process.version}, npm, sh)` }],
    },
    layers: [{ ...layer, createdBy: 'shipway: host base' }],
  };
}
