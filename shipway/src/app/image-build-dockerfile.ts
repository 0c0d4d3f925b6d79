import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { collectInputs } from '../adapters/image/app-layers.js';
import { OciLayout } from '../adapters/image/oci-layout.js';
import { runCommand } from '../adapters/process/run-command.js';
import { imageRepository } from '../core/config/shipway-config.js';
import { ExternalError } from '../core/errors.js';
import { inputTag } from '../core/image/input-hash.js';
import { parseImageRef } from '../core/image-ref.js';
import { locate } from '../core/oci/normalize-reference.js';
import type { AppContext } from './context.js';
import type { ImageBuildOptions, ImageBuildResult } from './image-build-options.js';
import { imageProvenance } from './image-provenance.js';
import { loadShipwayConfig } from './load-config.js';
import { publishHostBase } from './publish-host-base.js';
import { publishedContentTag, reusePublished } from './published-content-tag.js';
import { pushFromLayout } from './push-from-layout.js';
import { writeDotenv } from './write-dotenv.js';

function isLoopback(reference: string): boolean {
  return /^(localhost|127\.\d+\.\d+\.\d+)(:\d+)?\//.test(reference);
}

async function buildah(
  context: AppContext,
  storage: string,
  args: readonly string[],
  signal: AbortSignal | undefined,
): Promise<string> {
  const result = await runCommand(
    'buildah',
    ['--root', join(storage, 'root'), '--runroot', join(storage, 'run'), '--storage-driver', 'vfs', ...args],
    {
      cwd: context.cwd,
      env: { ...process.env, ...context.env, BUILDAH_ISOLATION: 'chroot' },
      signal,
    },
  ).catch((error: unknown) => {
    throw new ExternalError('BUILDAH_MISSING', 'buildah could not be started', {
      cause: error,
      hint: 'install buildah (Debian: apt-get install buildah), or build without --dockerfile',
    });
  });
  if (signal?.aborted === true)
    throw new ExternalError('BUILD_INTERRUPTED', `buildah ${args[0] ?? ''} was stopped: the build was interrupted`, {
      hint: 'nothing was pushed; run the build again',
    });
  if (result.code !== 0) {
    const tail = (result.stderr || result.stdout).trim().split('\n').slice(-4).join(' | ');
    throw new ExternalError('BUILDAH_FAILED', `buildah ${args[0] ?? ''} failed: ${tail}`);
  }
  return result.stdout;
}

/** `buildah bud` for the Dockerfile: reproducible times, the base as BASE_IMAGE, npm's CA as a secret. */
function budArguments(
  context: AppContext,
  dockerfile: string,
  image: string,
  base: string | undefined,
  mtime: number,
): string[] {
  const ignorefile = join(dirname(dockerfile), '.dockerignore');
  const ca = context.env.NODE_EXTRA_CA_CERTS;
  return [
    'bud',
    '--quiet',
    '--isolation',
    'chroot',
    '--timestamp',
    String(mtime),
    '-f',
    dockerfile,
    '-t',
    image,
    ...(base === undefined ? [] : ['--build-arg', `BASE_IMAGE=${base}`]),
    ...(base !== undefined && isLoopback(base) ? ['--tls-verify=false'] : []),
    ...(ca !== undefined && existsSync(ca) ? ['--secret', `id=npm_ca,src=${ca}`] : []),
    ...(existsSync(ignorefile) ? ['--ignorefile', ignorefile] : []),
    context.cwd,
  ];
}

/**
 * `shipway image build --dockerfile`: for teams whose Dockerfile is the source of truth. buildah
 * builds it daemonless (vfs storage, chroot isolation, --timestamp for reproducible metadata),
 * writes it into shipway's OCI layout, and shipway's own client pushes it.
 */
export async function buildDockerfileImage(
  context: AppContext,
  options: ImageBuildOptions & { dockerfile: string; signal?: AbortSignal | undefined },
): Promise<ImageBuildResult> {
  const config = await loadShipwayConfig(context, options.configFile);
  const repositoryText = imageRepository(config, context.env);
  const target = locate(parseImageRef(repositoryText));
  const dockerfile = resolve(context.cwd, options.dockerfile);
  if (!existsSync(dockerfile)) throw new ExternalError('DOCKERFILE_MISSING', `${options.dockerfile} does not exist`);
  const tag = options.tag ?? inputTag(await collectInputs(context.cwd, config.build.inputs));
  const layout = new OciLayout(join(context.cwd, '.shipway/oci'));
  const published = await publishedContentTag(context, options, target, tag);
  if (published !== undefined) return reusePublished(context, options, repositoryText, tag, published, layout);
  const base = options.base === 'host' ? await publishHostBase(context, repositoryText) : options.base;
  const mtime = (await imageProvenance(context, config)).time;
  const storage = join(context.cwd, '.shipway/buildah');
  context.progress(`buildah bud ${options.dockerfile}${base === undefined ? '' : ` on ${base}`}`);
  const built = `localhost/shipway-build:${tag}`;
  await buildah(context, storage, budArguments(context, dockerfile, built, base, mtime), options.signal);
  await layout.init();
  await buildah(context, storage, ['push', '--quiet', built, `oci:${layout.dir}:${tag}`], options.signal);
  const index = JSON.parse(await readFile(join(layout.dir, 'index.json'), 'utf8')) as {
    manifests: { digest: string; annotations?: Record<string, string> }[];
  };
  const digest = index.manifests.find(
    (entry) => entry.annotations?.['org.opencontainers.image.ref.name'] === tag,
  )?.digest;
  if (digest === undefined)
    throw new ExternalError('LAYOUT_INVALID', `buildah did not write ${tag} into ${layout.dir}`);
  const push = options.push === true ? await pushFromLayout(context, layout, target, digest, tag) : 'not-pushed';
  const ref = `${repositoryText}:${tag}@${digest}`;
  if (options.dotenv !== undefined) await writeDotenv(context, options.dotenv, repositoryText, tag, digest);
  return { repository: repositoryText, tag, digest, ref, layout: layout.dir, push, layers: [] };
}
