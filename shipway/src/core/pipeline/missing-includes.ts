import { declaredStages, namesOf, stageOf } from './check-jobs.js';
import type { CiJob, IncludeState } from './ci-model.js';
import type { CiMap } from './ci-yaml.js';

/** How many job names an error lists before "and N more". */
const LISTED = 8;

/**
 * With an include that cannot be read (missing offline, or failed), whatever it would define is
 * missing too: templates jobs extend, `!reference` targets, scripts of jobs it completes, stages,
 * jobs others need. GitLab stops at the include, so the missing include is the one error; the
 * jobs that depend on it are left out of the plan and named once in that error, not reported one
 * problem each. `dangling` holds, per top-level key, what it referred to that does not exist;
 * `chains` what each job was extended from.
 */
export function foldDependents(
  jobs: readonly CiJob[],
  config: CiMap,
  state: IncludeState,
  dangling: ReadonlyMap<string, readonly string[]>,
  chains: ReadonlyMap<string, readonly string[]>,
): CiJob[] {
  const stages = declaredStages(config);
  const names = new Set(jobs.map((job) => job.name));
  const reasons = new Map<string, string[]>();
  for (const job of jobs) {
    const why = [...(chains.get(job.name) ?? []), job.name].flatMap((link) => dangling.get(link) ?? []);
    const d = job.definition;
    if (d.script === undefined && d.run === undefined && d.trigger === undefined) why.push('its script');
    if (!stages.includes(stageOf(d))) why.push(`stage ${stageOf(d)}`);
    for (const key of ['needs', 'dependencies'] as const)
      for (const need of namesOf(d[key]) ?? [])
        if (need.local && !names.has(need.name)) why.push(`${key} ${need.name}`);
    if (why.length > 0) reasons.set(job.name, why);
  }
  // A job that needs a job left out is left out too.
  for (let changed = true; changed; ) {
    changed = false;
    for (const job of jobs) {
      if (reasons.has(job.name)) continue;
      const needed = (namesOf(job.definition.needs) ?? []).find((need) => reasons.has(need.name));
      if (needed === undefined) continue;
      reasons.set(job.name, [`needs ${needed.name}`]);
      changed = true;
    }
  }
  report(state, reasons);
  return jobs.filter((job) => !reasons.has(job.name));
}

function report(state: IncludeState, reasons: ReadonlyMap<string, readonly string[]>): void {
  const summary = summarize(reasons, state.missing.length + state.unusable.length > 1);
  for (const [index, missing] of state.missing.entries())
    state.problems.push({
      message: `include: ${missing.what} is not available offline: ${missing.hint}${index === 0 ? summary : ''}`,
      location: missing.location,
    });
  const [first] = state.unusable;
  if (state.missing.length === 0 && first !== undefined && summary !== '')
    state.problems.push({ message: `include: ${first.what} failed${summary}`, location: first.location });
}

function summarize(reasons: ReadonlyMap<string, readonly string[]>, several: boolean): string {
  if (reasons.size === 0) return '';
  const jobs = [...reasons.keys()];
  const what = [...new Set([...reasons.values()].flat())];
  const listed = (items: readonly string[]) =>
    items.length > LISTED ? `${items.slice(0, LISTED).join(', ')} and ${items.length - LISTED} more` : items.join(', ');
  const it = several ? 'the includes that cannot be read' : 'it';
  return `; ${jobs.length} job${jobs.length === 1 ? '' : 's'} left out of the plan depend on what ${it} would define (${listed(what)}): ${listed(jobs)}`;
}
