import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { GitCheckout } from '../adapters/git/git-checkout.js';

/** Who the merges `shipway run` makes on the stand-in's branches are by. */
const PIPELINE_IDENTITY = { name: 'shipway pipeline', email: 'pipeline@shipway.local' };

/**
 * "Pushes" the checkout's HEAD to `ref` on the local GitLab remote, as merging into the branch
 * would: the branch keeps its own history (the GitOps commits shipway made on it) and takes
 * the new code; on a conflict the branch's side wins (its kustomization pins its own image).
 * `workspace` is the pipeline's clone of the remote, made here on first use. Returns the
 * commit the branch now points at.
 */
export async function pushHead(checkoutDir: string, remote: string, workspace: string, ref: string): Promise<string> {
  const options = { identity: PIPELINE_IDENTITY };
  const head = await new GitCheckout(checkoutDir, options).revParse('HEAD');
  const clone = existsSync(join(workspace, '.git'))
    ? new GitCheckout(workspace, options)
    : await GitCheckout.clone(remote, workspace, options);
  await clone.fetch(checkoutDir);
  if (await clone.remoteHasBranch('origin', ref)) {
    await clone.fetch('origin', ref);
    await clone.checkoutBranch(ref, 'FETCH_HEAD');
    await clone.mergeFavouringOurs(head, `Merge ${head.slice(0, 8)} into ${ref}`);
  } else await clone.checkoutBranch(ref, head);
  await clone.push('origin', `HEAD:refs/heads/${ref}`);
  return clone.revParse('HEAD');
}
