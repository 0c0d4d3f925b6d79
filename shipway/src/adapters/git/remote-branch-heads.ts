import { runGit } from './run-git.js';

/**
 * Each branch of `remote` and the commit it points at (`git ls-remote --heads`); empty when the
 * remote cannot be read. Rejects when git cannot be started.
 */
export async function remoteBranchHeads(remote: string): Promise<Map<string, string>> {
  const listed = await runGit(['ls-remote', '--heads', remote]);
  const heads = new Map<string, string>();
  for (const [sha = '', ref = ''] of listed.stdout.split('\n').map((line) => line.split('\t')))
    if (ref.startsWith('refs/heads/')) heads.set(ref.slice('refs/heads/'.length), sha);
  return heads;
}
