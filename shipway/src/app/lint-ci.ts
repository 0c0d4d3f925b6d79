import { type LintFinding, lintPipeline } from '../core/pipeline/lint-pipeline.js';
import { loadCiConfig } from '../core/pipeline/load-ci-config.js';
import { type PipelinePlan, planPipeline } from '../core/pipeline/plan-pipeline.js';
import type { AppContext } from './context.js';
import { loadShipwayConfig } from './load-config.js';
import { triggerFor } from './plan-ci.js';
import { repositoryFile, repositorySources } from './repository-sources.js';

export interface LintCiResult {
  readonly findings: readonly LintFinding[];
  readonly errors: number;
  readonly warnings: number;
  /** The branches planned, each with the jobs its pipeline would run. */
  readonly branches: Readonly<Record<string, readonly string[]>>;
}

/** `shipway lint`: plans the config for every environment branch and checks it for delivery mistakes. */
export async function lintCi(
  context: AppContext,
  options: { file: string; configFile?: string | undefined },
): Promise<LintCiResult> {
  const shipway = await loadShipwayConfig(context, options.configFile);
  const sources = repositorySources(context.cwd);
  const config = loadCiConfig(sources, repositoryFile(context.cwd, options.file));
  const plans = new Map<string, PipelinePlan>();
  const branches: Record<string, string[]> = {};
  // One look at Git (the commit, the default branch); only the branch differs between the plans.
  const base = await triggerFor(context, { file: options.file, ref: shipway.environments[0]?.branch, message: '' });
  for (const env of shipway.environments) {
    const plan = planPipeline({ config, trigger: { ...base, branch: env.branch }, files: sources.files });
    plans.set(env.name, plan);
    branches[env.branch] = plan.stages.flatMap((stage) => stage.jobs.map((job) => job.name));
  }
  const findings = lintPipeline({ config, environments: shipway.environments, plans });
  return {
    findings,
    errors: findings.filter((finding) => finding.severity === 'error').length,
    warnings: findings.filter((finding) => finding.severity === 'warning').length,
    branches,
  };
}
