import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { appEntries, collectInputs, dependencyLayer } from '../adapters/image/app-layers.js';
import { cachedLayer } from '../adapters/image/cached-layer.js';
import { type BaseImage, hostBase } from '../adapters/image/host-base.js';
import { OciLayout } from '../adapters/image/oci-layout.js';
import { registryBase } from '../adapters/image/registry-base.js';
import { writeLayer } from '../adapters/image/tar-layer.js';
import { runCommand } from '../adapters/process/run-command.js';
import { imageRepository, type ShipwayConfig } from '../core/config/shipway-config.js';
import { ConfigError, ExternalError, UsageError } from '../core/errors.js';
import { type AssembledImage, assembleImage, type LayerDescriptor } from '../core/image/assemble-image.js';
import { inputTag } from '../core/image/input-hash.js';
import { type ImageRef, isValidTag, parseImageRef } from '../core/image-ref.js';
import { locate } from '../core/oci/normalize-reference.js';
import { clientFor } from './client-for.js';
import type { AppContext } from './context.js';
import { DEFAULT_BASE } from './defaults.js';
import type { ImageBuildOptions, ImageBuildResult } from './image-build-options.js';
import { imageProvenance } from './image-provenance.js';
import { loadShipwayConfig } from './load-config.js';
import { publishedContentTag, reusePublished } from './published-content-tag.js';
import { pushFromLayout } from './push-from-layout.js';
import { writeDotenv } from './write-dotenv.js';

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

/**
 * `--prebuilt`: the compiled output comes from elsewhere (the build job's `artifacts:paths`), and
 * compiling again would only cost time; it must be there. The same inputs compile to the same
 * bytes, so the digest is the one a build that compiles itself would get.
 */
function requirePrebuilt(root: string, config: ShipwayConfig): void {
  const output = join(config.build.context, config.build.output);
  if (!existsSync(join(root, output)))
    throw new ConfigError('PREBUILT_MISSING', `--prebuilt: ${output} does not exist`, {
      hint: `compile it first (npm run build in ${config.build.context}), or hand it on from the build job with artifacts:paths`,
    });
}

/** `shipway image build`: assemble the service's image without a daemon, and push it. */
export async function buildImage(context: AppContext, options: ImageBuildOptions): Promise<ImageBuildResult> {
  const config = await loadShipwayConfig(context, options.configFile);
  const repositoryText = imageRepository(config, context.env);
  const target = locate(parseImageRef(repositoryText));
  if (options.tag !== undefined && !isValidTag(options.tag))
    throw new UsageError('TAG_INVALID', `invalid tag ${JSON.stringify(options.tag)}`);
  // SHIPWAY_BASE_IMAGE lets a group variable (or the local pipeline, which has no Docker Hub) choose the base.
  const baseText = options.base ?? context.env.SHIPWAY_BASE_IMAGE ?? DEFAULT_BASE;
  const baseRef = baseText === 'host' ? undefined : parseImageRef(baseText);
  const root = context.cwd;
  const tag = options.tag ?? inputTag(await collectInputs(root, config.build.inputs));
  const layout = new OciLayout(join(root, '.shipway/oci'));
  const published = await publishedContentTag(context, options, target, tag);
  if (published !== undefined) return reusePublished(context, options, repositoryText, tag, published, layout);

  if (options.prebuilt === true) requirePrebuilt(root, config);
  else await compile(context, resolve(root, config.build.context));
  await layout.init();
  const { image, base, layers } = await assemble(context, config, layout, baseText, baseRef);
  await layout.writeBlob(image.config);
  await layout.writeBlob(image.manifest);
  await layout.tagManifest(tag, image.manifestDigest, image.manifest.length);
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
    ref: `${repositoryText}:${tag}@${image.manifestDigest}`,
    layout: layout.dir,
    push,
    layers: [...base.layers, ...layers].map(({ digest, size, createdBy }) => ({ digest, size, createdBy })),
  };
}

/** The base, the dependency and app layers, and the config and manifest that stack them. */
async function assemble(
  context: AppContext,
  config: ShipwayConfig,
  layout: OciLayout,
  baseText: string,
  baseRef: ImageRef | undefined,
): Promise<{ image: AssembledImage; base: BaseImage; layers: LayerDescriptor[] }> {
  const root = context.cwd;
  const provenance = await imageProvenance(context, config);
  const created = new Date(provenance.time * 1000).toISOString();
  context.progress(`base ${baseText}`);
  const base: BaseImage =
    baseRef === undefined
      ? await hostBase(layout, provenance.baseTime, new Date(provenance.baseTime * 1000).toISOString())
      : await registryBase(await clientFor(context, locate(baseRef).registry), baseRef, baseText);
  context.progress('layer: production node_modules');
  const deps = await dependencyLayer(root, config.build.context);
  const depsLayer = await cachedLayer(layout, deps.key, provenance.dependenciesTime, deps.entries);
  context.progress('layer: app');
  const appLayer = await writeLayer(
    await appEntries(root, config.build.context, config.build.output),
    layout.blobDir,
    provenance.time,
  );
  const layers: LayerDescriptor[] = [
    { ...depsLayer, createdBy: 'shipway: production node_modules' },
    { ...appLayer, createdBy: 'shipway: app' },
  ];
  const packageJson = JSON.parse(await readFile(join(root, config.build.context, 'package.json'), 'utf8')) as {
    version?: string;
    main?: string;
  };
  const labels = {
    'org.opencontainers.image.title': config.app,
    'org.opencontainers.image.revision': provenance.revision,
    'org.opencontainers.image.source': provenance.source,
    'org.opencontainers.image.created': created,
    'org.opencontainers.image.version': packageJson.version ?? '0.0.0',
  };
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
        Object.entries(labels).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ''),
      ),
    },
  });
  return { image, base, layers };
}
