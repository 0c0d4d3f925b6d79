import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { diffTexts } from '../../adapters/git/diff-texts.js';
import { renderOverlay } from '../../adapters/kustomize/render-overlay.js';
import type { ShipwayConfig } from '../../core/config/shipway-config.js';
import { RefusedError } from '../../core/errors.js';
import type { AppContext } from '../context.js';
import { requireEnvironment } from '../find-environment.js';
import { readOverlayAt } from '../overlay-branch.js';
import { promote } from '../promote.js';
import type { ReleaseHistory } from './release-history.js';

export interface PromotionPreview {
  readonly environment: string;
  readonly from: string;
  readonly status: 'planned' | 'unchanged';
  readonly image: string;
  readonly digest: string | null;
  readonly previous: string | null;
  readonly file: string;
  /** `git diff` of the overlay's kustomization.yaml, before → after. */
  readonly kustomizationDiff: string;
  /** `git diff` of `kustomize build` of the overlay, before → after. */
  readonly renderedDiff: string;
}

function yamlOf(objects: readonly unknown[]): string {
  return objects.map((object) => stringify(object, { sortMapEntries: false })).join('---\n');
}

/**
 * What `shipway promote <env> --from <upstream>` would change, without changing it: the same
 * use-case in --dry-run (same gates; a manual gate counts as approved, since nothing is written
 * and the action itself will ask again), then the overlay rendered with kustomize at the branch
 * tip and with the new kustomization, and both diffs.
 */
export async function previewPromotion(
  context: AppContext,
  config: ShipwayConfig,
  history: ReleaseHistory,
  options: { environment: string; configFile?: string | undefined },
): Promise<PromotionPreview> {
  const env = requireEnvironment(config, options.environment);
  if (env.from === undefined)
    throw new RefusedError('NO_UPSTREAM', `${env.name} has no upstream environment to promote from`, {
      hint: `promote ${env.name} with --image from a pipeline`,
    });
  const planned = await promote(context, {
    environment: env.name,
    from: env.from,
    dryRun: true,
    approve: true,
    configFile: options.configFile,
  });
  await history.refresh();
  const tip = `refs/shipway/${env.branch}`;
  const dir = await mkdtemp(join(context.env.TMPDIR || tmpdir(), 'shipway-preview-'));
  try {
    const before = await history.serial(async () => {
      await history.git.exportTree(tip, dir);
      return readOverlayAt(history.git, tip, env);
    });
    const after = planned.kustomization ?? before.text;
    const overlayDir = join(dir, env.overlay);
    const renderedBefore = yamlOf(await renderOverlay(overlayDir, context.env.PATH));
    await writeFile(join(dir, before.file), after);
    const renderedAfter = yamlOf(await renderOverlay(overlayDir, context.env.PATH));
    return {
      environment: env.name,
      from: env.from,
      status: planned.status === 'unchanged' ? 'unchanged' : 'planned',
      image: planned.image,
      digest: planned.digest,
      previous: planned.previous,
      file: before.file,
      kustomizationDiff: await diffTexts(before.file, before.text, after, dir),
      renderedDiff: await diffTexts(`${env.overlay}/rendered.yaml`, renderedBefore, renderedAfter, dir),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
