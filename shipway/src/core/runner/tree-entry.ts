/**
 * One path of a job's files (an artifact, a cache), relative to its root with `/` separators.
 * Files carry what shows an in-place change to a shared inode: size, modification time and mode.
 */
export type TreeEntry =
  | { readonly path: string; readonly type: 'dir' }
  | {
      readonly path: string;
      readonly type: 'file';
      readonly size: number;
      readonly mtimeMs: number;
      readonly mode: number;
    }
  | { readonly path: string; readonly type: 'symlink'; readonly target: string };

function key(entry: TreeEntry): string {
  if (entry.type === 'dir') return `d ${entry.path}`;
  if (entry.type === 'symlink') return `l ${entry.path} ${entry.target}`;
  return `f ${entry.path} ${entry.size} ${entry.mtimeMs} ${entry.mode}`;
}

/** Whether two listings describe the same tree: the same paths, types, link targets, and file sizes, times and modes. */
export function sameTree(a: readonly TreeEntry[], b: readonly TreeEntry[]): boolean {
  if (a.length !== b.length) return false;
  const keys = new Set(a.map(key));
  return b.every((entry) => keys.has(key(entry)));
}

/** Entries sorted so that every directory comes before what it holds. */
export function parentsFirst(entries: readonly TreeEntry[]): TreeEntry[] {
  return [...entries].sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
}
