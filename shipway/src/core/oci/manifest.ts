import { z } from 'zod';
import { isValidDigest } from '../image-ref.js';

/** Media types from the OCI image spec (media-types.md) and Docker's image manifest v2 schema 2. */
export const MEDIA = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

export const MANIFEST_MEDIA_TYPES: readonly string[] = [
  MEDIA.ociManifest,
  MEDIA.ociIndex,
  MEDIA.dockerManifest,
  MEDIA.dockerManifestList,
];

const digest = z.string().refine(isValidDigest, { message: 'must be a digest such as sha256:<64 hex>' });

export const descriptorSchema = z.object({
  mediaType: z.string().min(1),
  digest,
  size: z.number().int().nonnegative(),
  annotations: z.record(z.string(), z.string()).optional(),
  platform: z.object({ architecture: z.string(), os: z.string(), variant: z.string().optional() }).optional(),
});
export type Descriptor = z.infer<typeof descriptorSchema>;

export const imageManifestSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.enum([MEDIA.ociManifest, MEDIA.dockerManifest]).optional(),
  config: descriptorSchema,
  layers: z.array(descriptorSchema),
  annotations: z.record(z.string(), z.string()).optional(),
});
export type ImageManifest = z.infer<typeof imageManifestSchema>;

export const imageIndexSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.enum([MEDIA.ociIndex, MEDIA.dockerManifestList]).optional(),
  manifests: z.array(descriptorSchema),
  annotations: z.record(z.string(), z.string()).optional(),
});
export type ImageIndex = z.infer<typeof imageIndexSchema>;

/** The image config fields shipway reads and writes (OCI image-spec config.md). */
export const imageConfigSchema = z.object({
  created: z.string().optional(),
  architecture: z.string(),
  os: z.string(),
  config: z
    .object({
      User: z.string().optional(),
      ExposedPorts: z.record(z.string(), z.object({})).optional(),
      Env: z.array(z.string()).optional(),
      Entrypoint: z.array(z.string()).nullable().optional(),
      Cmd: z.array(z.string()).nullable().optional(),
      WorkingDir: z.string().optional(),
      Labels: z.record(z.string(), z.string()).nullable().optional(),
      StopSignal: z.string().optional(),
    })
    .passthrough()
    .optional(),
  rootfs: z.object({ type: z.literal('layers'), diff_ids: z.array(digest) }),
  history: z.array(z.record(z.string(), z.unknown())).optional(),
});
export type ImageConfig = z.infer<typeof imageConfigSchema>;

export type ParsedManifest =
  | { readonly kind: 'image'; readonly mediaType: string; readonly manifest: ImageManifest }
  | { readonly kind: 'index'; readonly mediaType: string; readonly index: ImageIndex };

/** Parses manifest bytes as the media type they were served or pushed with. */
export function parseManifest(
  bytes: Buffer,
  mediaType: string,
): ParsedManifest | { readonly kind: 'invalid'; readonly reason: string } {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    return { kind: 'invalid', reason: 'not JSON' };
  }
  const isIndex = mediaType === MEDIA.ociIndex || mediaType === MEDIA.dockerManifestList;
  const schema = isIndex ? imageIndexSchema : imageManifestSchema;
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { kind: 'invalid', reason: `${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}` };
  }
  const declared = (parsed.data as { mediaType?: string }).mediaType;
  if (declared !== undefined && declared !== mediaType) {
    return { kind: 'invalid', reason: `mediaType ${declared} does not match Content-Type ${mediaType}` };
  }
  return isIndex
    ? { kind: 'index', mediaType, index: parsed.data as ImageIndex }
    : { kind: 'image', mediaType, manifest: parsed.data as ImageManifest };
}
