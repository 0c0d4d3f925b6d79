import { realpath } from 'node:fs/promises';
import { GitCheckout } from '../adapters/git/git-checkout.js';
import { projectIdentity, projectKey } from '../core/stack/project-key.js';
import type { AppContext } from './context.js';

/**
 * This checkout's key in the local stack (core/stack/project-key.ts): its app and the project
 * its `origin` names, else its own directory.
 */
export async function projectKeyOf(context: AppContext, app: string): Promise<{ key: string; checkout: string }> {
  const checkout = await realpath(context.cwd).catch(() => context.cwd);
  const url = await new GitCheckout(context.cwd).remoteUrl('origin');
  return { key: projectKey(app, projectIdentity(url, checkout)), checkout };
}
