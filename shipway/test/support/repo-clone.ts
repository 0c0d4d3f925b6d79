import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './git-fixture.js';

export interface RepoClone {
  readonly dir: string;
  cleanup(): void;
}

/**
 * A fresh clone of this repository's HEAD in a temp dir, sharing the installed node_modules
 * (dependencies are installed from the lockfile, not part of the commit).
 */
export function cloneRepo(prefix = 'shipway-clone-'): RepoClone {
  const parent = mkdtempSync(join(tmpdir(), prefix));
  const dir = join(parent, 'repo');
  execFileSync('git', ['clone', '--quiet', '--no-hardlinks', REPO_ROOT, dir]);
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'));
  return { dir, cleanup: () => rmSync(parent, { recursive: true, force: true }) };
}
