import { isCiMap } from '../pipeline/ci-yaml.js';
import type { PipelinePlan, PlannedJob } from '../pipeline/plan-pipeline.js';
import { earlierStageJobs } from '../pipeline/schedule-jobs.js';

/** Whether the job's `needs:` entry for `name` asks for its artifacts (`needs:artifacts`, true unless false). */
function needsArtifactsOf(job: PlannedJob, name: string): boolean {
  const needs = job.definition.needs;
  if (!Array.isArray(needs)) return true;
  const entry = needs.find((need) => (isCiMap(need) ? need.job === name : need === name));
  return !(isCiMap(entry) && entry.artifacts === false);
}

/**
 * The jobs whose artifacts (files and dotenv reports alike) a job receives, as GitLab decides it
 * (app/models/ci/build_dependencies.rb, `local`): none with `dependencies: []`; else the jobs it
 * `needs` with `artifacts` not false when it has `needs` (an empty list included), or every job of
 * the earlier stages when it has none; then only those also named in `dependencies`, when given.
 */
export function artifactSources(job: PlannedJob, plan: PipelinePlan): string[] {
  const dependencies = job.dependencies;
  if (dependencies !== null && dependencies.length === 0) return [];
  const candidates =
    job.needs !== null
      ? job.needs.filter((name) => needsArtifactsOf(job, name))
      : earlierStageJobs(job, plan).map((other) => other.name);
  return dependencies === null ? candidates : candidates.filter((name) => dependencies.includes(name));
}
