import { Writable } from 'node:stream';
import { z } from 'zod';
import { ExternalError } from '../../core/errors.js';
import { type ImageManifest, parseManifest } from '../../core/oci/manifest.js';
import type { FetchedManifest, RegistryClient } from '../registry/registry-client.js';
import { ociArchitecture } from './host-base.js';

/** The parts of an image config a runtime reads (image-spec config.md); other fields pass through. */
const runtimeConfigSchema = z
  .object({
    config: z
      .object({
        Env: z.array(z.string()).nullable().optional(),
        Cmd: z.array(z.string()).nullable().optional(),
        Entrypoint: z.array(z.string()).nullable().optional(),
        WorkingDir: z.string().optional(),
        User: z.string().optional(),
        Labels: z.record(z.string(), z.string()).nullable().optional(),
        ExposedPorts: z.record(z.string(), z.object({})).nullable().optional(),
      })
      .passthrough()
      .default({}),
    rootfs: z
      .object({ diff_ids: z.array(z.string()) })
      .passthrough()
      .optional(),
  })
  .passthrough();
export type RuntimeConfig = z.infer<typeof runtimeConfigSchema>;

export interface FetchedImage {
  /** The digest of the image manifest (for a multi-platform index, of the platform's manifest). */
  readonly digest: string;
  readonly manifestBytes: Buffer;
  readonly manifest: ImageManifest;
  readonly configBytes: Buffer;
  readonly config: RuntimeConfig;
}

function invalid(what: string, reason: string): ExternalError {
  return new ExternalError('IMAGE_INVALID', `${what} is not a valid image: ${reason}`);
}

/** An image manifest, following a multi-platform index to this machine's linux platform. */
async function imageManifest(
  client: RegistryClient,
  repo: string,
  reference: string,
  what: string,
): Promise<{ fetched: FetchedManifest; manifest: ImageManifest }> {
  let fetched = await client.getManifest(repo, reference);
  if (fetched === undefined) throw new ExternalError('IMAGE_NOT_FOUND', `${what} was not found`);
  let parsed = parseManifest(fetched.bytes, fetched.mediaType);
  if (parsed.kind === 'index') {
    const arch = ociArchitecture(process.arch);
    const entry = parsed.index.manifests.find(
      (candidate) => candidate.platform?.os === 'linux' && candidate.platform.architecture === arch,
    );
    if (entry === undefined) throw invalid(what, `it has no linux/${arch} image`);
    // By digest, so the client checks the bytes against the index's descriptor.
    fetched = await client.getManifest(repo, entry.digest);
    if (fetched === undefined) throw new ExternalError('IMAGE_NOT_FOUND', `${what}@${entry.digest} was not found`);
    parsed = parseManifest(fetched.bytes, fetched.mediaType);
  }
  if (parsed.kind !== 'image')
    throw invalid(what, parsed.kind === 'index' ? 'an index inside an index' : parsed.reason);
  return { fetched, manifest: parsed.manifest };
}

/**
 * Fetches and verifies an image's manifest and config. The manifest is checked against the
 * digest it was asked for (or the registry's Docker-Content-Digest for a tag, in the client), the
 * config against the manifest's descriptor (digest and size), and both are parsed, not trusted.
 */
export async function fetchImage(client: RegistryClient, repo: string, reference: string): Promise<FetchedImage> {
  const what = `${client.registry}/${repo}${reference.includes(':') ? '@' : ':'}${reference}`;
  const { fetched, manifest } = await imageManifest(client, repo, reference, what);
  const chunks: Buffer[] = [];
  const size = await client.downloadBlob(
    repo,
    manifest.config.digest,
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk);
        done();
      },
    }),
  );
  if (size !== manifest.config.size)
    throw invalid(what, `its config is ${size} bytes, but the manifest says ${manifest.config.size}`);
  const configBytes = Buffer.concat(chunks);
  let json: unknown;
  try {
    json = JSON.parse(configBytes.toString('utf8'));
  } catch {
    throw invalid(what, 'its config is not JSON');
  }
  const config = runtimeConfigSchema.safeParse(json);
  if (!config.success) {
    const issue = config.error.issues[0];
    throw invalid(what, `config ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`);
  }
  const diffIds = config.data.rootfs?.diff_ids;
  if (diffIds !== undefined && diffIds.length !== manifest.layers.length)
    throw invalid(what, `its config lists ${diffIds.length} diff_ids for ${manifest.layers.length} layers`);
  return { digest: fetched.digest, manifestBytes: fetched.bytes, manifest, configBytes, config: config.data };
}
