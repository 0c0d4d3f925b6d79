import { readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError } from '../core/errors.js';
import {
  formatKustomization,
  type KustomizeImage,
  parseSetImageArgs,
  readImages,
  setImagesInDocument,
} from '../core/kustomize/set-image.js';
import type { AppContext } from './context.js';
import { KUSTOMIZATION_FILES } from './overlay-branch.js';

export interface SetImageResult {
  readonly file: string;
  readonly changed: boolean;
  readonly images: readonly KustomizeImage[];
}

async function findKustomization(dir: string): Promise<string> {
  const names = await readdir(dir).catch((error: unknown) => {
    throw new ConfigError('OVERLAY_MISSING', `cannot read directory ${dir}`, { cause: error });
  });
  const found = KUSTOMIZATION_FILES.filter((name) => names.includes(name));
  if (found.length > 1) {
    throw new ConfigError(
      'KUSTOMIZATION_INVALID',
      `found multiple kustomization files in ${dir}: ${found.join(', ')}`,
      { hint: 'keep exactly one' },
    );
  }
  const [name] = found;
  if (name === undefined) {
    throw new ConfigError('OVERLAY_MISSING', `no kustomization file in ${dir}`, {
      hint: `expected one of ${KUSTOMIZATION_FILES.join(', ')}`,
    });
  }
  return join(dir, name);
}

/** `shipway kustomize set-image`: `kustomize edit set image` that keeps comments and layout. */
export async function setImage(context: AppContext, dir: string, args: readonly string[]): Promise<SetImageResult> {
  const requested = parseSetImageArgs(args);
  const file = await findKustomization(resolve(context.cwd, dir));
  const document = parseDocument(await readFile(file, 'utf8'));
  if (document.errors.length > 0) {
    throw new ConfigError(
      'KUSTOMIZATION_INVALID',
      `${file} is not valid YAML: ${document.errors[0]?.message.split('\n')[0] ?? ''}`,
    );
  }
  const changed = setImagesInDocument(document, requested);
  // The edited document is checked as a file would be read back, before anything is written: a
  // refusal leaves the file byte-for-byte as it was.
  const images = readImages(document);
  if (changed) {
    // Write beside and rename, so a crash never leaves half a kustomization behind.
    const temporary = `${file}.shipway-${process.pid}.tmp`;
    await writeFile(temporary, formatKustomization(document));
    await rename(temporary, file);
  }
  return { file, changed, images };
}
