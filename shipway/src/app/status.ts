import type { EnvironmentConfig } from '../core/config/shipway-config.js';
import { ConfigError } from '../core/errors.js';
import { formatEntry } from '../core/promotion/plan-promotion.js';
import { parsePromotionTrailers } from '../core/promotion/promotion-message.js';
import type { AppContext } from './context.js';
import { loadShipwayConfig } from './load-config.js';
import { branchMissing, openScratch, readOverlayAt } from './overlay-branch.js';

export interface EnvironmentStatus {
  readonly branch: string;
  readonly image: string | null;
  readonly tag: string | null;
  readonly digest: string | null;
  /** The last commit that changed the overlay, and when. */
  readonly commit: string | null;
  readonly promotedAt: string | null;
  readonly promotedFrom: string | null;
  readonly gate: EnvironmentConfig['gate'];
  readonly problem: string | null;
}

export interface StatusResult {
  readonly app: string;
  readonly environments: Record<string, EnvironmentStatus>;
}

const EMPTY = { image: null, tag: null, digest: null, commit: null, promotedAt: null, promotedFrom: null };

/** `shipway status`: what every environment's branch pins, read from the remote (openScratch: which one). */
export async function status(
  context: AppContext,
  options: { configFile?: string | undefined; remote?: string | undefined } = {},
): Promise<StatusResult> {
  const config = await loadShipwayConfig(context, options.configFile);
  const scratch = await openScratch(context, config, options.remote);
  try {
    const environments: Record<string, EnvironmentStatus> = {};
    for (const env of config.environments) {
      const base = { branch: env.branch, gate: env.gate };
      const tip = await scratch.fetchBranch(env.branch);
      if (tip === null) {
        environments[env.name] = { ...base, ...EMPTY, problem: branchMissing(env.branch) };
        continue;
      }
      try {
        const overlay = await readOverlayAt(scratch, tip, env);
        const entry = overlay.images.find((image) => image.name === config.image.name);
        const [last] = await scratch.log(`refs/shipway/${env.branch}`, overlay.file);
        environments[env.name] = {
          ...base,
          image: entry === undefined ? null : formatEntry(entry),
          tag: entry?.newTag || null,
          digest: entry?.digest || null,
          commit: last?.commit ?? null,
          promotedAt: last?.date ?? null,
          promotedFrom: last === undefined ? null : (parsePromotionTrailers(last.message).sourceEnvironment ?? null),
          problem: entry === undefined ? `no ${config.image.name} image pinned in ${overlay.file}` : null,
        };
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        environments[env.name] = { ...base, ...EMPTY, problem: error.message };
      }
    }
    return { app: config.app, environments };
  } finally {
    await scratch.dispose();
  }
}
