import { globToRegExp } from '../../core/pipeline/glob.js';
import {
  excludedBy,
  type FileSelection,
  insideProject,
  matchesOrUnder,
  splitPattern,
} from '../../core/runner/file-selection.js';
import type { TreeEntry } from '../../core/runner/tree-entry.js';
import { entryAt, realParents, walkTree } from './walk-tree.js';

export interface SelectedFiles {
  readonly entries: readonly TreeEntry[];
  /** One line per path that was refused or matched nothing, for the job log. */
  readonly notes: readonly string[];
}

/**
 * The workspace files a selection names, as GitLab Runner's file archiver finds them
 * (commands/helpers/file_archiver.go): each path or glob (`*`, `**`, `?`, `[…]`, `{a,b}`) relative
 * to the project directory, a matched directory with everything under it, `exclude` removing the
 * paths it matches, `untracked` adding Git's untracked files. Stricter than the runner: nothing is
 * reached through a symlink (a link is kept as a link, never followed, so a link to /etc copies
 * no host file), and the `.git` directory is never taken.
 */
export function selectFiles(
  workspace: string,
  selection: FileSelection,
  expand: (text: string) => string,
  untracked: () => readonly string[],
): SelectedFiles {
  const chosen = new Map<string, TreeEntry>();
  const notes: string[] = [];
  const exclude = selection.exclude
    .map((pattern) => insideProject(expand(pattern), workspace))
    .filter((pattern): pattern is string => pattern !== undefined)
    .map(globToRegExp);
  const skipGit = (path: string) => path === '.git' || path.startsWith('.git/');
  for (const written of selection.paths) {
    const pattern = insideProject(expand(written), workspace);
    if (pattern === undefined) {
      notes.push(`${written}: not a subpath of the project directory; ignored`);
      continue;
    }
    const { base, glob } = splitPattern(pattern);
    if (!realParents(workspace, glob === undefined ? base : `${base}/x`)) {
      notes.push(`${written}: passes through a symlink or a file; ignored`);
      continue;
    }
    const found = walkTree(workspace, base, skipGit).filter(
      (entry) => glob === undefined || matchesOrUnder(entry.path, base, glob),
    );
    if (found.length === 0) notes.push(`${written}: no matching files`);
    for (const entry of found) chosen.set(entry.path, entry);
  }
  if (selection.untracked)
    for (const path of untracked()) {
      const entry = realParents(workspace, path) ? entryAt(workspace, path) : undefined;
      if (entry !== undefined && !skipGit(path)) chosen.set(entry.path, entry);
    }
  const entries = [...chosen.values()].filter((entry) => entry.path !== '' && !excludedBy(entry.path, exclude));
  return { entries, notes };
}
