import { lastCommitTouching } from '../adapters/git/last-commit.js';
import type { ShipwayConfig } from '../core/config/shipway-config.js';
import { decideProvenance, type Provenance } from '../core/image/provenance.js';
import type { AppContext } from './context.js';

/** Reads what the image's timestamps and labels are made of from Git, the config and the environment. */
export async function imageProvenance(context: AppContext, config: ShipwayConfig): Promise<Provenance> {
  const sourceDateEpoch = context.env.SOURCE_DATE_EPOCH;
  const [inputsCommit, lockfileCommit] = await Promise.all([
    lastCommitTouching(context.cwd, config.build.inputs),
    lastCommitTouching(context.cwd, ['package-lock.json']),
  ]);
  if (inputsCommit?.shallowBoundary === true && sourceDateEpoch === undefined) {
    context.progress(
      `warning: ${inputsCommit.sha.slice(0, 12)} is this shallow clone's oldest commit; the commit that last changed build.inputs may be older, and this build's timestamps then differ from a full clone's (fetch with GIT_DEPTH: 0, or set SOURCE_DATE_EPOCH)`,
    );
  }
  return decideProvenance({
    sourceDateEpoch,
    inputsCommit,
    lockfileCommit,
    configuredSource: config.image.source,
    projectUrl: context.env.CI_PROJECT_URL,
  });
}
