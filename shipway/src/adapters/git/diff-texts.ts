import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ExternalError } from '../../core/errors.js';
import { runGit } from './run-git.js';

/**
 * A unified diff of two texts by `git diff --no-index` (exit 1 means "they differ"), labelled
 * `a/<name>` and `b/<name>` as a commit's diff would be; empty when they are the same.
 */
export async function diffTexts(name: string, before: string, after: string, parent = tmpdir()): Promise<string> {
  const dir = await mkdtemp(join(parent, 'shipway-diff-'));
  try {
    for (const [side, text] of [
      ['a', before],
      ['b', after],
    ] as const) {
      await mkdir(dirname(join(dir, side, name)), { recursive: true });
      await writeFile(join(dir, side, name), text);
    }
    const result = await runGit(
      ['diff', '--no-index', '--no-color', '--no-ext-diff', '--no-prefix', '-U3', '--', `a/${name}`, `b/${name}`],
      { cwd: dir },
    );
    if (result.code > 1) throw new ExternalError('GIT_FAILED', `git diff failed: ${result.stderr.trim()}`);
    return result.stdout;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
