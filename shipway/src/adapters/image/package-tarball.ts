import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract } from 'tar-stream';
import { ConfigError } from '../../core/errors.js';
import { layerPath } from '../../core/image/layer-path.js';
import type { LayerEntry } from './tar-layer.js';

export interface PackageTarball {
  readonly name: string;
  readonly version: string;
  readonly dependencies: Readonly<Record<string, string>>;
  /** `bin` of package.json as a map: command name → file in the package. */
  readonly bin: Readonly<Record<string, string>>;
  /** The package's files placed under `into` (npm pack's `package/` prefix removed). */
  readonly entries: readonly LayerEntry[];
  /** Bytes of all files, unpacked. */
  readonly size: number;
}

/** Bigger than any npm package shipway makes by far: a bound on what is read into memory. */
const MAX_BYTES = 256 * 1024 * 1024;

function refuse(tarball: string, why: string): ConfigError {
  return new ConfigError('TARBALL_INVALID', `${tarball} is not an npm package tarball: ${why}`, {
    hint: 'pass the file `npm pack -w shipway` wrote',
  });
}

/**
 * Reads an `npm pack` tarball into layer entries under `into`: only regular files (and the
 * directories they imply), every name under `package/` and inside it, at most 256 MiB in all.
 */
export async function readPackageTarball(tarball: string, into: string): Promise<PackageTarball> {
  const entries: LayerEntry[] = [];
  let manifest: Buffer | undefined;
  let size = 0;
  const reader = extract();
  reader.on('entry', (header, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (data: unknown) => {
      const chunk = data as Buffer;
      size += chunk.length;
      if (size > MAX_BYTES) stream.destroy(refuse(tarball, 'more than 256 MiB of files'));
      else chunks.push(chunk);
    });
    stream.on('end', () => {
      const parsed = layerPath(header.name);
      const parts = parsed.ok ? parsed.parts : [];
      if (header.type === 'directory') return next();
      if (header.type !== 'file' || parts[0] !== 'package' || parts.length < 2)
        return next(refuse(tarball, `unexpected entry ${JSON.stringify(header.name)}`));
      const content = Buffer.concat(chunks);
      const path = parts.slice(1).join('/');
      if (path === 'package.json') manifest = content;
      entries.push({ path: `${into}/${path}`, type: 'file', content, executable: ((header.mode ?? 0) & 0o111) !== 0 });
      next();
    });
    stream.on('error', next);
  });
  try {
    await pipeline(createReadStream(tarball), createGunzip(), reader);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw refuse(tarball, (error as Error).message);
  }
  if (manifest === undefined) throw refuse(tarball, 'no package/package.json');
  let parsed: Partial<Omit<PackageTarball, 'bin'>> & { bin?: string | Record<string, string> };
  try {
    parsed = JSON.parse(manifest.toString('utf8')) as typeof parsed;
  } catch {
    throw refuse(tarball, 'package/package.json is not JSON');
  }
  if (typeof parsed.name !== 'string' || typeof parsed.version !== 'string')
    throw refuse(tarball, 'package.json has no name or version');
  const bin = typeof parsed.bin === 'string' ? { [parsed.name]: parsed.bin } : (parsed.bin ?? {});
  // npm install makes every bin executable; so does this (a packed bin may have lost its mode).
  const bins = new Set(Object.values(bin).map((file) => `${into}/${file.replace(/^\.\//, '')}`));
  return {
    name: parsed.name,
    version: parsed.version,
    dependencies: parsed.dependencies ?? {},
    bin,
    entries: entries
      .map((entry) => (entry.type === 'file' && bins.has(entry.path) ? { ...entry, executable: true } : entry))
      .sort((a, b) => (a.path < b.path ? -1 : 1)),
    size,
  };
}
