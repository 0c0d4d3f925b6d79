import { type LintFinding, lintPipeline } from '../core/pipeline/lint-pipeline.js';
import { type CiConfig, readMainFile } from '../core/pipeline/load-ci-config.js';
import { type PipelinePlan, planPipeline } from '../core/pipeline/plan-pipeline.js';
import { externalIncludes, loadPipeline } from './ci-config.js';
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
  /** Where included files came from, when the user should know (shipway's own component). */
  readonly notes: readonly string[];
}

/** `shipway lint`: plans the config for every environment branch and checks it for delivery mistakes. */
export async function lintCi(
  context: AppContext,
  options: { file: string; configFile?: string | undefined; includeDir?: string | undefined },
): Promise<LintCiResult> {
  const shipway = await loadShipwayConfig(context, options.configFile);
  const sources = repositorySources(context.cwd);
  const file = repositoryFile(context.cwd, options.file);
  const main = readMainFile(sources, file);
  const plans = new Map<string, PipelinePlan>();
  const branches: Record<string, string[]> = {};
  // One look at Git (the commit, the default branch); only the branch differs between the plans.
  const [base, external] = await Promise.all([
    triggerFor(context, { file: options.file, ref: shipway.environments[0]?.branch, message: '', protected: true }),
    externalIncludes(context, context.cwd, options.includeDir),
  ]);
  const variables = new Map<string, string>();
  let config: CiConfig | undefined;
  for (const env of shipway.environments) {
    // Environment branches are protected (docs/gitlab.md); includes may differ per branch (include:rules).
    const trigger = { ...base, branch: env.branch, protected: true, configPath: file };
    const loaded = loadPipeline(sources, main, { trigger, variables, external });
    config ??= loaded.config;
    const plan = planPipeline({ config: loaded.config, trigger, files: sources.files, child: loaded.child });
    plans.set(env.name, plan);
    branches[env.branch] = plan.stages.flatMap((stage) => stage.jobs.map((job) => job.name));
  }
  config ??= loadPipeline(sources, main, { trigger: base, variables, external }).config;
  const findings = lintPipeline({ config, environments: shipway.environments, plans });
  return {
    findings,
    errors: findings.filter((finding) => finding.severity === 'error').length,
    warnings: findings.filter((finding) => finding.severity === 'warning').length,
    branches,
    notes: config.notes,
  };
}
