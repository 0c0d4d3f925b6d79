import { readFileSync, realpathSync } from 'node:fs';
import { dirname, join, posix, resolve } from 'node:path';
import { dependencyLayer } from '../adapters/image/app-layers.js';
import { cachedLayer } from '../adapters/image/cached-layer.js';
import { hostBase } from '../adapters/image/host-base.js';
import { gitEntries, hostGit } from '../adapters/image/host-git.js';
import { OciLayout } from '../adapters/image/oci-layout.js';
import { type PackageTarball, readPackageTarball } from '../adapters/image/package-tarball.js';
import { type LayerEntry, writeLayer } from '../adapters/image/tar-layer.js';
import { ConfigError, UsageError } from '../core/errors.js';
import { assembleImage, type LayerDescriptor, type RuntimeSettings } from '../core/image/assemble-image.js';
import { sourceDateEpoch } from '../core/image/provenance.js';
import { isValidTag, parseImageRef } from '../core/image-ref.js';
import { locate } from '../core/oci/normalize-reference.js';
import type { AppContext } from './context.js';
import { pushFromLayout } from './push-from-layout.js';

const SYSTEM_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

export interface ToolImageOptions {
  /** The file `npm pack -w shipway` wrote. */
  readonly tarball: string;
  /** Where the image goes, without a tag: `$CI_REGISTRY_IMAGE/shipway`. */
  readonly repository: string;
  /** Default: the package's version. */
  readonly tag?: string | undefined;
  readonly push: boolean;
}

export interface ToolImageResult {
  readonly ref: string;
  readonly tag: string;
  readonly digest: string;
  readonly layout: string;
  readonly push: 'pushed' | 'already-published' | 'not-pushed';
  readonly versions: { readonly shipway: string; readonly node: string; readonly git: string };
  /** Where shipway is in the image, and its command. */
  readonly paths: { readonly package: string; readonly bin: string; readonly node: string };
  /** The layers' compressed bytes, as a registry stores them. */
  readonly compressedSize: number;
  readonly layers: readonly { readonly digest: string; readonly size: number; readonly createdBy: string }[];
}

/** Checks that the lockfile installs what the tarball depends on: the deps layer comes from the lockfile. */
function checkDependencies(root: string, pkg: PackageTarball): void {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
    packages?: Record<string, { dependencies?: Record<string, string> }>;
  };
  const locked = lock.packages?.shipway?.dependencies ?? {};
  const differing = Object.entries(pkg.dependencies).filter(([name, range]) => locked[name] !== range);
  if (differing.length > 0)
    throw new ConfigError(
      'TARBALL_LOCK_MISMATCH',
      `the tarball's dependencies differ from package-lock.json's shipway workspace: ${differing.map(([name]) => name).join(', ')}`,
      { hint: 'pack the tarball from this checkout (npm pack -w shipway) after npm ci' },
    );
}

/**
 * `shipway image build-tool`: the tool image the component's deploy and promote jobs run in, so
 * they install nothing. Layers: the `--base host` runtime (this machine's Node, npm and a shell),
 * this machine's git with its HTTP helpers and libraries, shipway's production dependencies as
 * package-lock.json pins them, and the packed package, installed where npm puts a global package
 * for this Node (`<prefix>/lib/node_modules/shipway`, `<prefix>/bin/shipway`), so `shipway` and
 * `npx shipway` both find it. Every timestamp is SOURCE_DATE_EPOCH (else 0): the same tarball,
 * lockfile, host binaries and epoch give the same digest.
 */
export async function buildToolImage(context: AppContext, options: ToolImageOptions): Promise<ToolImageResult> {
  const root = context.cwd;
  const repository = parseImageRef(options.repository);
  if (repository.tag !== null || repository.digest !== null)
    throw new UsageError('USAGE', '--repository takes a repository without a tag or digest; use --tag');
  const tool = await readToolPackage(root, options.tarball);
  const { pkg } = tool;
  const tag = options.tag ?? pkg.version;
  if (!isValidTag(tag)) throw new UsageError('TAG_INVALID', `invalid tag ${JSON.stringify(tag)}`);
  const time = sourceDateEpoch(context.env.SOURCE_DATE_EPOCH) ?? 0;
  const created = new Date(time * 1000).toISOString();
  const layout = new OciLayout(join(root, '.shipway/oci'));
  await layout.init();
  const { base, git, layers, bin } = await buildToolLayers(context, layout, tool, time, created);
  const image = assembleImage({
    baseConfig: base.config,
    baseLayers: base.layers,
    layers,
    created,
    runtime: toolRuntime(pkg.version, bin, created),
  });
  await layout.writeBlob(image.config);
  await layout.writeBlob(image.manifest);
  await layout.tagManifest(tag, image.manifestDigest, image.manifest.length);
  const target = locate(repository);
  const push = options.push
    ? await pushFromLayout(context, layout, target, image.manifestDigest, tag)
    : ('not-pushed' as const);
  const all = [...base.layers, ...layers];
  return {
    ref: `${options.repository}:${tag}@${image.manifestDigest}`,
    tag,
    digest: image.manifestDigest,
    layout: layout.dir,
    push,
    versions: { shipway: pkg.version, node: process.versions.node, git: git.version.replace(/^git version /, '') },
    paths: { package: `/${tool.into}`, bin, node: tool.node },
    compressedSize: all.reduce((sum, layer) => sum + layer.size, 0) + image.config.length,
    layers: all.map(({ digest, size, createdBy }) => ({ digest, size, createdBy })),
  };
}

interface ToolPackage {
  readonly pkg: PackageTarball;
  /** This machine's node binary, and the prefix npm installs global packages under. */
  readonly node: string;
  readonly prefix: string;
  /** Where the package goes in the image, without the leading slash. */
  readonly into: string;
  /** The package's `bin.shipway`. */
  readonly binFile: string;
}

/** The packed shipway tarball, read for installing where npm puts a global package for this Node. */
async function readToolPackage(root: string, tarball: string): Promise<ToolPackage> {
  const node = realpathSync(process.execPath);
  const prefix = dirname(dirname(node));
  const into = posix.join(prefix, 'lib/node_modules/shipway').slice(1);
  const pkg = await readPackageTarball(resolve(root, tarball), into);
  if (pkg.name !== 'shipway' || pkg.bin.shipway === undefined)
    throw new ConfigError('TARBALL_INVALID', `${tarball} is the package ${pkg.name}, not shipway`);
  checkDependencies(root, pkg);
  return { pkg, node, prefix, into, binFile: pkg.bin.shipway };
}

/** The host base, then the git, dependencies and package layers, each reused from the layout when unchanged. */
async function buildToolLayers(
  context: AppContext,
  layout: OciLayout,
  tool: ToolPackage,
  time: number,
  created: string,
) {
  const { pkg, prefix, into } = tool;
  context.progress(`base: this machine's node ${process.version}, npm and sh`);
  const base = await hostBase(layout, time, created);
  const git = await hostGit();
  context.progress(`layer: ${git.version} with its HTTP helpers`);
  const gitLayer = await cachedLayer(layout, `host-git v2\n${git.key}`, time, () => gitEntries(git));
  context.progress('layer: production node_modules (package-lock.json)');
  const deps = await dependencyLayer(context.cwd, 'shipway', into);
  const depsLayer = await cachedLayer(layout, deps.key, time, deps.entries);
  context.progress(`layer: shipway ${pkg.version}`);
  const bin = posix.join(prefix, 'bin/shipway');
  const binTarget = posix.relative(posix.dirname(bin), `/${into}/${tool.binFile.replace(/^\.\//, '')}`);
  const entries: LayerEntry[] = [...pkg.entries, { path: bin.slice(1), type: 'symlink', target: binTarget }];
  const packageLayer = await writeLayer(entries, layout.blobDir, time);
  const layers: LayerDescriptor[] = [
    { ...gitLayer, createdBy: `shipway: ${git.version}` },
    { ...depsLayer, createdBy: 'shipway: production node_modules' },
    { ...packageLayer, createdBy: `shipway: shipway ${pkg.version}` },
  ];
  return { base, git, layers, bin };
}

function toolRuntime(version: string, bin: string, created: string): RuntimeSettings {
  return {
    // Root, as CI job images run: the runner's build directory must be writable.
    user: '',
    workingDir: '/',
    env: [`PATH=${[...new Set([posix.dirname(bin), ...SYSTEM_PATH])].join(':')}`],
    exposedPorts: [],
    // No entrypoint: GitLab runs a job's script through the image's shell.
    entrypoint: [],
    cmd: ['shipway', '--help'],
    labels: {
      'org.opencontainers.image.title': 'shipway',
      'org.opencontainers.image.version': version,
      'org.opencontainers.image.created': created,
    },
  };
}
