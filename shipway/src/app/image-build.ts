import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { appEntries, collectInputs, dependencyLayer } from '../adapters/image/app-layers.js';
import { cachedLayer } from '../adapters/image/cached-layer.js';
import { type BaseImage, hostBase } from '../adapters/image/host-base.js';
import { OciLayout } from '../adapters/image/oci-layout.js';
import { registryBase } from '../adapters/image/registry-base.js';
import { writeLayer } from '../adapters/image/tar-layer.js';
import { runCommand } from '../adapters/process/run-command.js';
import { RegistryClient } from '../adapters/registry/registry-client.js';
import { registryCredentials } from '../adapters/registry/registry-credentials.js';
import { imageRepository } from '../core/config/shipway-config.js';
import { ExternalError, UsageError } from '../core/errors.js';
import { assembleImage, type LayerDescriptor } from '../core/image/assemble-image.js';
import { inputTag } from '../core/image/input-hash.js';
import { isValidTag, parseImageRef } from '../core/image-ref.js';
import { MEDIA, parseManifest } from '../core/oci/manifest.js';
import { locate } from '../core/oci/normalize-reference.js';
import type { AppContext } from './context.js';
import { resolveRemote } from './git-remote.js';
import { loadShipwayConfig } from './load-config.js';

export { DEFAULT_BASE } from './defaults.js';

import { DEFAULT_BASE } from './defaults.js';

export interface ImageBuildOptions {
  readonly base?: string | undefined;
  readonly tag?: string | undefined;
  readonly push?: boolean;
  readonly dotenv?: string | undefined;
  readonly configFile?: string | undefined;
}

export interface ImageBuildResult {
  readonly repository: string;
  readonly tag: string;
  readonly digest: string;
  readonly ref: string;
  readonly layout: string;
  readonly push: 'pushed' | 'already-published' | 'not-pushed';
  readonly layers: readonly {
    readonly digest: string;
    readonly size: number;
    readonly createdBy: string;
    readonly cached?: boolean;
  }[];
}

async function git(context: AppContext, ...args: string[]): Promise<string | undefined> {
  const result = await runCommand('git', args, { cwd: context.cwd }).catch(() => undefined);
  return result?.code === 0 ? result.stdout.trim() : undefined;
}

/** SOURCE_DATE_EPOCH (reproducible-builds.org), else the commit time, else the epoch. */
async function buildTime(context: AppContext): Promise<number> {
  const fromEnv = context.env.SOURCE_DATE_EPOCH;
  if (fromEnv !== undefined && /^\d+$/.test(fromEnv)) return Number(fromEnv);
  const commitTime = await git(context, 'log', '-1', '--format=%ct');
  return commitTime !== undefined && /^\d+$/.test(commitTime) ? Number(commitTime) : 0;
}

async function compile(context: AppContext, dir: string): Promise<void> {
  const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as {
    scripts?: Record<string, string>;
  };
  if (manifest.scripts?.build === undefined) return;
  context.progress(`building ${dir} (npm run build)`);
  const result = await runCommand('npm', ['run', 'build', '--silent'], {
    cwd: dir,
    env: { ...process.env, ...context.env },
  });
  if (result.code !== 0) {
    throw new ExternalError('BUILD_FAILED', `npm run build failed in ${dir}`, {
      hint: (result.stderr || result.stdout).trim().split('\n').slice(-3).join(' | '),
    });
  }
}

export async function clientFor(context: AppContext, registry: string): Promise<RegistryClient> {
  return new RegistryClient(registry, { credentials: await registryCredentials(registry, context.env) });
}

/** `shipway image build`: assemble the service's image without a daemon, and push it. */
export async function buildImage(context: AppContext, options: ImageBuildOptions): Promise<ImageBuildResult> {
  const config = await loadShipwayConfig(context, options.configFile);
  const repositoryText = imageRepository(config, context.env);
  const target = locate(parseImageRef(repositoryText));
  if (options.tag !== undefined && !isValidTag(options.tag))
    throw new UsageError(`invalid tag ${JSON.stringify(options.tag)}`, { code: 'TAG_INVALID' });
  // SHIPWAY_BASE_IMAGE lets a group variable (or the local pipeline, which has no Docker Hub) choose the base.
  const baseText = options.base ?? context.env.SHIPWAY_BASE_IMAGE ?? DEFAULT_BASE;
  const baseRef = baseText === 'host' ? undefined : parseImageRef(baseText);
  const root = context.cwd;
  const contextDir = resolve(root, config.build.context);
  await compile(context, contextDir);

  const tag = options.tag ?? inputTag(await collectInputs(root, config.build.inputs));
  const mtime = await buildTime(context);
  const created = new Date(mtime * 1000).toISOString();
  const layout = new OciLayout(join(root, '.shipway/oci'));
  await layout.init();

  context.progress(`base ${baseText}`);
  const base: BaseImage =
    baseRef === undefined
      ? await hostBase(layout, mtime, created)
      : await registryBase(await clientFor(context, locate(baseRef).registry), baseRef, baseText);
  context.progress('layer: production node_modules');
  const deps = await dependencyLayer(root, config.build.context);
  const depsLayer = await cachedLayer(layout, deps.key, mtime, deps.entries);
  context.progress('layer: app');
  const appLayer = await writeLayer(
    await appEntries(root, config.build.context, config.build.output),
    layout.blobDir,
    mtime,
  );
  const layers: LayerDescriptor[] = [
    { ...depsLayer, createdBy: 'shipway: production node_modules' },
    { ...appLayer, createdBy: 'shipway: app' },
  ];
  const packageJson = JSON.parse(await readFile(join(contextDir, 'package.json'), 'utf8')) as {
    version?: string;
    main?: string;
  };
  const revision = context.env.CI_COMMIT_SHA ?? (await git(context, 'rev-parse', 'HEAD')) ?? '';
  const source =
    context.env.CI_PROJECT_URL ??
    (await resolveRemote(context, config.git.remote)
      .then((remote) => remote.url)
      .catch(() => ''));
  const image = assembleImage({
    baseConfig: base.config,
    baseLayers: base.layers,
    layers,
    created,
    runtime: {
      user: '1000:1000',
      workingDir: '/app',
      env: ['NODE_ENV=production'],
      exposedPorts: ['8080/tcp'],
      entrypoint: [],
      cmd: ['node', packageJson.main ?? `${config.build.output}/server.js`],
      labels: Object.fromEntries(
        Object.entries({
          'org.opencontainers.image.title': config.app,
          'org.opencontainers.image.revision': revision,
          'org.opencontainers.image.source': source,
          'org.opencontainers.image.created': created,
          'org.opencontainers.image.version': packageJson.version ?? '0.0.0',
        }).filter(([, value]) => value !== ''),
      ),
    },
  });
  await layout.writeBlob(image.config);
  await layout.writeBlob(image.manifest);
  await layout.tagManifest(tag, image.manifestDigest, image.manifest.length);

  const ref = `${repositoryText}:${tag}@${image.manifestDigest}`;
  const push =
    options.push === true
      ? await pushFromLayout(context, layout, target, image.manifestDigest, tag, base.source)
      : 'not-pushed';
  if (options.dotenv !== undefined)
    await writeDotenv(context, options.dotenv, repositoryText, tag, image.manifestDigest);
  return {
    repository: repositoryText,
    tag,
    digest: image.manifestDigest,
    ref,
    layout: layout.dir,
    push,
    layers: [...base.layers, ...layers].map((layer) => ({
      digest: layer.digest,
      size: layer.size,
      createdBy: layer.createdBy,
    })),
  };
}

/**
 * Pushes an image that is in the local OCI layout: each blob the registry lacks is mounted from
 * the base's repository when both are on the same registry, else uploaded from the layout
 * (fetched from the base's registry first if the layout does not have it); the manifest last.
 */
export async function pushFromLayout(
  context: AppContext,
  layout: OciLayout,
  target: { registry: string; repository: string },
  manifestDigest: string,
  tag: string,
  baseSource?: { registry: string; repository: string },
): Promise<'pushed' | 'already-published'> {
  const client = await clientFor(context, target.registry);
  if ((await client.resolveTag(target.repository, tag)) === manifestDigest) {
    context.progress(`${target.registry}/${target.repository}:${tag} already has ${manifestDigest}; nothing to push`);
    return 'already-published';
  }
  const manifestBytes = await layout.readBlob(manifestDigest);
  const parsed = parseManifest(manifestBytes, MEDIA.ociManifest);
  if (parsed.kind !== 'image')
    throw new ExternalError(
      'LAYOUT_INVALID',
      `manifest ${manifestDigest} in ${layout.dir} is not an OCI image manifest`,
    );
  const fromLayout = (digest: string, size: number) => ({
    digest,
    size,
    open: (start: number, end: number) => createReadStream(layout.blobPath(digest), { start, end }),
  });
  for (const blob of [...parsed.manifest.layers, parsed.manifest.config]) {
    if (await client.blobExists(target.repository, blob.digest)) continue;
    const inLayout = await layout.hasBlob(blob.digest);
    if (
      !inLayout &&
      baseSource?.registry === target.registry &&
      (await client.mountBlob(target.repository, blob.digest, baseSource.repository))
    ) {
      await report(context, blob, 'mounted');
      continue;
    }
    if (!inLayout && baseSource !== undefined) {
      context.progress(`fetching ${blob.digest.slice(0, 19)}… from ${baseSource.registry}/${baseSource.repository}`);
      const partial = `${layout.blobPath(blob.digest)}.partial`;
      await (await clientFor(context, baseSource.registry)).downloadBlob(
        baseSource.repository,
        blob.digest,
        createWriteStream(partial),
      );
      await rename(partial, layout.blobPath(blob.digest));
    }
    await report(context, blob, await client.uploadBlob(target.repository, fromLayout(blob.digest, blob.size)));
  }
  await client.putManifest(target.repository, tag, manifestBytes, MEDIA.ociManifest);
  return 'pushed';
}

async function report(context: AppContext, blob: { digest: string; size: number }, outcome: string): Promise<void> {
  context.progress(`${outcome.padEnd(8)} ${blob.digest.slice(0, 19)}… ${(blob.size / 1024 / 1024).toFixed(1)} MiB`);
}

/** The variables later jobs read from a GitLab `artifacts:reports:dotenv` file. */
export async function writeDotenv(
  context: AppContext,
  file: string,
  repository: string,
  tag: string,
  digest: string,
): Promise<void> {
  const lines = [
    `IMAGE_REPOSITORY=${repository}`,
    `IMAGE_TAG=${tag}`,
    `IMAGE_DIGEST=${digest}`,
    `IMAGE_REF=${repository}:${tag}@${digest}`,
  ];
  await writeFile(resolve(context.cwd, file), `${lines.join('\n')}\n`);
}

/**
 * Publishes the `--base host` runtime as an image of its own (`<repository>-base:host-node<v>`),
 * so tools that pull a base by reference, such as `buildah bud`, can build on it.
 */
export async function publishHostBase(context: AppContext, repositoryText: string): Promise<string> {
  const layout = new OciLayout(join(context.cwd, '.shipway/oci'));
  await layout.init();
  const mtime = await buildTime(context);
  const created = new Date(mtime * 1000).toISOString();
  const base = await hostBase(layout, mtime, created);
  const config = Buffer.from(JSON.stringify({ ...base.config, config: { ...base.config.config, Cmd: ['node'] } }));
  const configDigest = await layout.writeBlob(config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA.ociManifest,
      config: { mediaType: MEDIA.ociConfig, digest: configDigest, size: config.length },
      layers: base.layers.map((layer) => ({ mediaType: MEDIA.ociLayerGzip, digest: layer.digest, size: layer.size })),
    }),
  );
  const digest = await layout.writeBlob(manifest);
  const tag = `host-node${process.versions.node}`;
  await layout.tagManifest(tag, digest, manifest.length);
  const target = locate(parseImageRef(`${repositoryText}-base`));
  await pushFromLayout(context, layout, target, digest, tag);
  return `${repositoryText}-base:${tag}@${digest}`;
}

export { buildTime, collectInputs, inputTag, OciLayout };
