import { createHash } from 'node:crypto';
import { type ImageConfig, MEDIA } from '../oci/manifest.js';

export interface LayerDescriptor {
  readonly digest: string;
  readonly diffId: string;
  readonly size: number;
  /** What produced the layer, for the config's history. */
  readonly createdBy: string;
}

export interface RuntimeSettings {
  readonly user: string;
  readonly workingDir: string;
  readonly env: readonly string[];
  readonly exposedPorts: readonly string[];
  readonly entrypoint: readonly string[];
  readonly cmd: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
}

export interface AssembleInput {
  readonly baseConfig: ImageConfig;
  readonly baseLayers: readonly LayerDescriptor[];
  readonly layers: readonly LayerDescriptor[];
  readonly created: string;
  readonly runtime: RuntimeSettings;
}

export interface AssembledImage {
  readonly config: Buffer;
  readonly configDigest: string;
  readonly manifest: Buffer;
  readonly manifestDigest: string;
}

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Later `KEY=value` entries replace earlier ones with the same key, keeping first positions. */
export function mergeEnv(base: readonly string[], added: readonly string[]): string[] {
  const merged = new Map<string, string>();
  for (const entry of [...base, ...added]) merged.set(entry.split('=')[0] ?? entry, entry);
  return [...merged.values()];
}

/**
 * The image config and OCI manifest for base layers plus shipway's layers (image-spec
 * config.md and manifest.md). Every field comes from the input, so equal inputs give byte-equal
 * JSON and equal digests.
 */
export function assembleImage(input: AssembleInput): AssembledImage {
  const { baseConfig, runtime } = input;
  const all = [...input.baseLayers, ...input.layers];
  const configObject = {
    created: input.created,
    architecture: baseConfig.architecture,
    os: baseConfig.os,
    config: {
      User: runtime.user,
      ExposedPorts: Object.fromEntries(runtime.exposedPorts.map((port) => [port, {}])),
      Env: mergeEnv(baseConfig.config?.Env ?? [], runtime.env),
      Entrypoint: [...runtime.entrypoint],
      Cmd: [...runtime.cmd],
      WorkingDir: runtime.workingDir,
      Labels: { ...(baseConfig.config?.Labels ?? {}), ...runtime.labels },
      StopSignal: 'SIGTERM',
    },
    rootfs: { type: 'layers', diff_ids: all.map((layer) => layer.diffId) },
    history: [
      ...(baseConfig.history ?? []),
      ...input.layers.map((layer) => ({ created: input.created, created_by: layer.createdBy })),
    ],
  };
  const config = Buffer.from(JSON.stringify(configObject));
  const configDigest = sha256(config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA.ociManifest,
      config: { mediaType: MEDIA.ociConfig, digest: configDigest, size: config.length },
      layers: all.map((layer) => ({ mediaType: MEDIA.ociLayerGzip, digest: layer.digest, size: layer.size })),
    }),
  );
  return { config, configDigest, manifest, manifestDigest: sha256(manifest) };
}
