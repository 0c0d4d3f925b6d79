import { createHash } from 'node:crypto';

export interface InputFile {
  readonly path: string;
  readonly executable: boolean;
  readonly sha256: string;
}

/**
 * The image tag a set of build inputs gets: a hash of every input file's path, exec bit and
 * content, so an unchanged service keeps its tag (and its published image) across commits.
 */
export function inputTag(files: readonly InputFile[]): string {
  const hash = createHash('sha256');
  for (const file of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    hash.update(`${file.path}\0${file.executable ? 'x' : '-'}\0${file.sha256}\n`);
  }
  return `src-${hash.digest('hex').slice(0, 16)}`;
}
