import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ConfigError, ExternalError } from '../../core/errors.js';
import { runCommand } from '../process/run-command.js';

async function onPath(program: string, path: string | undefined): Promise<string | undefined> {
  for (const dir of (path ?? '').split(delimiter).filter((entry) => entry !== '')) {
    const candidate = join(dir, program);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  return undefined;
}

/** `kustomize build` if installed, else `kubectl kustomize` (kubectl bundles kustomize). */
export async function findKustomize(path: string | undefined): Promise<readonly string[]> {
  const kustomize = await onPath('kustomize', path);
  if (kustomize !== undefined) return [kustomize, 'build'];
  const kubectl = await onPath('kubectl', path);
  if (kubectl !== undefined) return [kubectl, 'kustomize'];
  throw new ExternalError('KUSTOMIZE_MISSING', 'neither kustomize nor kubectl is on PATH', {
    hint: 'install kubectl (it includes kustomize: https://kubernetes.io/docs/tasks/tools/) or kustomize (https://kubectl.docs.kubernetes.io/installation/kustomize/)',
  });
}

/** Renders an overlay with real kustomize and returns its objects. */
export async function renderOverlay(dir: string, path: string | undefined): Promise<unknown[]> {
  const [program = 'kubectl', ...args] = await findKustomize(path);
  const result = await runCommand(program, [...args, dir]);
  if (result.code !== 0) {
    const reason = result.stderr.trim().split('\n').pop() ?? 'no output';
    throw new ConfigError('OVERLAY_INVALID', `kustomize could not render ${dir}: ${reason.replace(/^Error:\s*/, '')}`);
  }
  return parseAllDocuments(result.stdout).flatMap((document) => {
    if ('errors' in document && document.errors.length === 0) {
      const value: unknown = document.toJS();
      return value === null ? [] : [value];
    }
    return [];
  });
}
