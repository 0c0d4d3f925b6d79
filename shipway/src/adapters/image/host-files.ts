import { lstat, readdir, readlink, stat } from 'node:fs/promises';
import { dirname, join, posix, resolve } from 'node:path';
import { ExternalError } from '../../core/errors.js';
import { runCommand } from '../process/run-command.js';
import type { LayerEntry } from './tar-layer.js';

/** Host paths of the shared libraries a dynamically linked program loads, from `ldd`. */
export async function sharedLibraries(program: string): Promise<string[]> {
  const result = await runCommand('ldd', [program]).catch((error: unknown) => {
    throw new ExternalError('LDD_MISSING', 'ldd could not be started', {
      cause: error,
      hint: 'install libc-bin (Debian) or use --base <image>',
    });
  });
  if (result.code !== 0) return [];
  return result.stdout
    .split('\n')
    .map((line) => /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line)?.[1])
    .filter((path): path is string => path !== undefined);
}

/**
 * Layer entries that reproduce host paths inside an image, symlinks included: `/lib64/ld-linux…`
 * on a merged-/usr system is a chain of links (lib64 → usr/lib64 → …), and each link must exist
 * in the image for the kernel and the loader to find the file.
 */
export async function hostPathEntries(paths: readonly string[]): Promise<LayerEntry[]> {
  const entries = new Map<string, LayerEntry>();
  const visit = async (absolute: string, depth: number): Promise<void> => {
    if (depth > 40) throw new ExternalError('HOST_PATH', `too many symlinks resolving ${absolute}`);
    const parts = absolute.split('/').filter((part) => part !== '');
    for (let i = 1; i <= parts.length; i += 1) {
      const prefix = `/${parts.slice(0, i).join('/')}`;
      const info = await lstat(prefix);
      if (info.isSymbolicLink()) {
        const target = await readlink(prefix);
        entries.set(prefix.slice(1), { path: prefix.slice(1), type: 'symlink', target });
        const rest = parts.slice(i).join('/');
        return visit(posix.normalize(resolve(dirname(prefix), target, rest)), depth + 1);
      }
      if (i === parts.length && info.isFile()) {
        entries.set(prefix.slice(1), {
          path: prefix.slice(1),
          type: 'file',
          source: prefix,
          size: info.size,
          executable: (info.mode & 0o111) !== 0,
        });
      }
      if (i === parts.length && info.isDirectory()) {
        for (const entry of await directoryEntries(prefix, prefix.slice(1))) entries.set(entry.path, entry);
      }
    }
  };
  for (const path of paths) await visit(path, 0);
  return [...entries.values()];
}

/** Every file, directory and symlink under `dir`, placed under `imagePath`; `skip` names to leave out. */
export async function directoryEntries(
  dir: string,
  imagePath: string,
  skip: (name: string, path: string) => boolean = () => false,
): Promise<LayerEntry[]> {
  const out: LayerEntry[] = [{ path: imagePath, type: 'directory' }];
  for (const name of (await readdir(dir)).sort()) {
    const source = join(dir, name);
    const target = `${imagePath}/${name}`;
    if (skip(name, source)) continue;
    const info = await lstat(source);
    if (info.isSymbolicLink()) out.push({ path: target, type: 'symlink', target: await readlink(source) });
    else if (info.isDirectory()) out.push(...(await directoryEntries(source, target, skip)));
    else if (info.isFile())
      out.push({ path: target, type: 'file', source, size: info.size, executable: (info.mode & 0o111) !== 0 });
  }
  return out;
}

/** A cache key part for host files: path, size and modification time of each. */
export async function fingerprint(paths: readonly string[]): Promise<string> {
  const parts: string[] = [];
  for (const path of paths) {
    const info = await stat(path);
    parts.push(`${path}:${info.size}:${info.mtimeMs}`);
  }
  return parts.join('\n');
}
