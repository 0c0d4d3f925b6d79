import { constants, type Stats } from 'node:fs';
import { chmod, link, lstat, mkdir, open, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Header as Headers } from 'tar-stream';
import { layerPath } from '../../core/image/layer-path.js';

/** An entry's content as tar-stream hands it over. */
type Body = AsyncIterable<unknown> & { resume(): unknown };

/** A layer entry shipway will not write: the reason names the entry. */
export class EntryRefused extends Error {}

/** An entry that could not be written for a reason of the filesystem's (ENOSPC, EACCES, …). */
export class EntryFailed extends Error {
  constructor(
    readonly entry: string,
    cause: unknown,
  ) {
    super(`cannot write ${JSON.stringify(entry)}: ${(cause as { code?: string }).code ?? String(cause)}`, { cause });
  }
}

// O_EXCL with O_CREAT never follows a symlink at the last component (open(2)); O_NOFOLLOW says so twice.
const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
// Set-id bits are dropped: shipway runs an image's programs without namespaces, as the user who
// pulled it, so a set-id file in an unpacked layer would be one on the host. Directories keep
// owner rwx so that unpacking into them and removing them later never fails on our own files.
const fileMode = (mode: number | undefined) => (mode ?? 0o644) & 0o1777;
const dirMode = (mode: number | undefined) => ((mode ?? 0o755) & 0o1777) | 0o700;

async function lstatOrMissing(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Writes one layer's entries into its own directory, never outside it.
 *
 * Every parent component of an entry is walked with lstat: a missing one is created as a
 * directory, and a symlink or a file on the way is refused. containerd resolves such a symlink
 * inside the root instead (continuity's fs.RootPath, the securejoin approach); shipway refuses it
 * because no builder produces it (a layer is a diff of real paths: a write through a link is
 * recorded where it landed), and because each layer is unpacked on its own, as containerd's
 * overlayfs snapshotter applies a layer into an empty upperdir, a link could only come from the
 * same layer, which makes such an entry a crafted one. Symlink targets, absolute or not, are
 * stored as they are and never followed here. A hard link must name a file or symlink this layer
 * already holds, reached without passing a symlink (image-spec layer.md, "Hardlinks": a link
 * outside the layer "may fail").
 */
export class LayerWriter {
  /** Directories (relative) already known to be real directories of this layer. */
  private readonly dirs = new Set<string>();

  constructor(private readonly root: string) {}

  async write(header: Headers, body: Body): Promise<void> {
    try {
      await this.writeEntry(header, body);
    } catch (error) {
      body.resume();
      throw error instanceof EntryRefused ? error : new EntryFailed(header.name, error);
    }
  }

  private async writeEntry(header: Headers, body: Body): Promise<void> {
    const parsed = layerPath(header.name);
    if (!parsed.ok) throw new EntryRefused(`entry ${JSON.stringify(header.name)} points outside the image`);
    const parts = parsed.parts;
    if (parts.length === 0) {
      if (header.type !== 'directory') throw new EntryRefused(`entry ${JSON.stringify(header.name)} names the root`);
      body.resume();
      return;
    }
    await this.parentOf(parts, header.name);
    const target = join(this.root, ...parts);
    const linked = header.type === 'link' ? await this.linkTarget(header.linkname ?? '', header.name) : undefined;
    if (linked === target) return void body.resume();
    const existing = await lstatOrMissing(target);
    if (existing?.isDirectory() === true && header.type === 'directory') {
      await chmod(target, dirMode(header.mode));
      return void body.resume();
    }
    // image-spec layer.md, "Changeset over existing files": anything else replaces what is there.
    if (existing !== undefined) await this.remove(parts);
    await this.create(header, body, target, parts, linked);
  }

  private async create(
    header: Headers,
    body: Body,
    target: string,
    parts: readonly string[],
    linked: string | undefined,
  ): Promise<void> {
    if (header.type === 'file' || header.type === 'contiguous-file') {
      const handle = await open(target, CREATE, fileMode(header.mode));
      await pipeline(body, handle.createWriteStream());
      return;
    }
    body.resume();
    if (header.type === 'directory') {
      await mkdir(target, { mode: dirMode(header.mode) });
      this.dirs.add(parts.join('/'));
    } else if (header.type === 'symlink') {
      if (!header.linkname) throw new EntryRefused(`symlink ${JSON.stringify(header.name)} has no target`);
      await symlink(header.linkname, target);
    } else if (linked !== undefined) {
      await link(linked, target);
    }
    // Devices and FIFOs need privileges shipway does not have; like rootless runtimes, it skips them.
  }

  /** The parent directory of `parts`, creating what is missing and refusing symlinks and files on the way. */
  private async parentOf(parts: readonly string[], name: string): Promise<void> {
    for (let depth = 1; depth < parts.length; depth += 1) {
      const relative = parts.slice(0, depth).join('/');
      if (this.dirs.has(relative)) continue;
      const path = join(this.root, relative);
      const info = await lstatOrMissing(path);
      if (info === undefined) await mkdir(path, { mode: 0o755 });
      else if (info.isSymbolicLink())
        throw new EntryRefused(`entry ${JSON.stringify(name)} passes through the symlink ${JSON.stringify(relative)}`);
      else if (!info.isDirectory())
        throw new EntryRefused(`entry ${JSON.stringify(name)} passes through the file ${JSON.stringify(relative)}`);
      this.dirs.add(relative);
    }
  }

  /** Where a hard link points: a file or symlink already in this layer, reached through real directories only. */
  private async linkTarget(linkname: string, name: string): Promise<string> {
    const what = `hard link ${JSON.stringify(name)} -> ${JSON.stringify(linkname)}`;
    const parsed = layerPath(linkname);
    if (!parsed.ok || parsed.parts.length === 0) throw new EntryRefused(`${what} points outside the image`);
    for (let depth = 1; depth <= parsed.parts.length; depth += 1) {
      const relative = parsed.parts.slice(0, depth).join('/');
      const info = await lstatOrMissing(join(this.root, relative));
      const last = depth === parsed.parts.length;
      if (info === undefined) throw new EntryRefused(`${what} names a file that is not in this layer`);
      if (!last && info.isSymbolicLink())
        throw new EntryRefused(`${what} passes through the symlink ${JSON.stringify(relative)}`);
      if (!last && !info.isDirectory())
        throw new EntryRefused(`${what} passes through the file ${JSON.stringify(relative)}`);
      if (last && info.isDirectory()) throw new EntryRefused(`${what} names a directory`);
    }
    return join(this.root, ...parsed.parts);
  }

  /** Removes an existing entry (never following a symlink) and forgets the directories under it. */
  private async remove(parts: readonly string[]): Promise<void> {
    await rm(join(this.root, ...parts), { recursive: true, force: true });
    const prefix = parts.join('/');
    for (const dir of this.dirs) if (dir === prefix || dir.startsWith(`${prefix}/`)) this.dirs.delete(dir);
  }
}
