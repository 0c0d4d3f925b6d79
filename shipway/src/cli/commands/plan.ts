import type { Command } from 'commander';
import { ConfigError } from '../../core/errors.js';
import { formatLocation } from '../../core/pipeline/ci-yaml.js';
import type { CiProblem } from '../../core/pipeline/load-ci-config.js';
import type { PipelinePlan } from '../../core/pipeline/plan-pipeline.js';
import { contextFor } from '../context-from-io.js';
import type { CliIo } from '../io.js';
import { renderTable } from '../render-table.js';

interface PlanFlags {
  file: string;
  ref?: string;
  tag?: string;
  source: string;
  var: string[];
  targetBranch?: string;
  defaultBranch?: string;
  changed?: string[];
  message?: string;
  openMergeRequest: boolean;
  json: boolean;
}

const EXAMPLES = `
Examples:
  shipway plan --ref dev                         the pipeline a push to dev creates
  shipway plan --tag v1.2.0 --json               a tag pipeline, as JSON
  shipway plan --ref feature/x --source merge_request_event --target-branch main
  shipway plan --ref main --source schedule --var NIGHTLY=true
  shipway plan --ref dev --changed service/src/server.ts   rules:changes against these files

Without --changed, rules:changes is true, as GitLab treats a new branch, a tag or a schedule.
--json prints {"created", "reason", "errors", "stages": [{"name", "jobs": [{"name", "when",
"allowFailure", "needs", "stage", "startIn"}]}]}. Exit 2 when the config has errors.`;

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerPlan(program: Command, io: CliIo): void {
  program
    .command('plan')
    .description('show the pipeline GitLab would create for a branch, tag or merge request, offline')
    .option('--file <path>', 'the CI config', '.gitlab-ci.yml')
    .option('--ref <branch>', 'a branch pipeline (default: the current branch)')
    .option('--tag <tag>', 'a tag pipeline')
    .option('--source <source>', 'push, merge_request_event, web, schedule, api, trigger, …', 'push')
    .option('--var <KEY=VALUE>', 'a variable set outside the file (group, project, pipeline); repeatable', collect, [])
    .option('--target-branch <branch>', 'for a merge request: the branch it merges into (default: the default branch)')
    .option('--default-branch <branch>', "CI_DEFAULT_BRANCH (default: origin's HEAD, else main)")
    .option('--changed <path...>', 'the files the push or merge request changed, for rules:changes')
    .option('--message <text>', 'CI_COMMIT_MESSAGE (default: the HEAD commit message)')
    .option('--open-merge-request', 'the branch has an open merge request (sets CI_OPEN_MERGE_REQUESTS)', false)
    .option('--json', 'print the plan as JSON', false)
    .addHelpText('after', EXAMPLES)
    .action(async (flags: PlanFlags) => {
      const { context, output } = contextFor(io, flags.json);
      const { planCi, parseVariableArgs } = await import('../../app/plan-ci.js');
      const { plan, trigger } = await planCi(context, {
        file: flags.file,
        ref: flags.ref,
        tag: flags.tag,
        source: flags.source,
        variables: parseVariableArgs(flags.var),
        targetBranch: flags.targetBranch,
        defaultBranch: flags.defaultBranch,
        changed: flags.changed,
        message: flags.message,
        openMergeRequest: flags.openMergeRequest,
      });
      if (output.json) output.data(planJson(plan));
      else {
        const what = trigger.tag === undefined ? `branch ${trigger.branch}` : `tag ${trigger.tag}`;
        output.result(renderPlan(plan, `${what} (${trigger.source})`));
      }
      if (plan.errors.length > 0) throw configErrors(flags.file, plan.errors);
    });
}

export function planJson(plan: PipelinePlan): unknown {
  return {
    created: plan.created,
    reason: plan.reason,
    errors: plan.errors.map((error) => ({ ...error.location, message: error.message })),
    stages: plan.stages.map((stage) => ({
      name: stage.name,
      jobs: stage.jobs.map((job) => ({
        name: job.name,
        when: job.when,
        allowFailure: job.allowFailure,
        needs: job.needs,
        stage: job.stage,
        startIn: job.startIn,
      })),
    })),
  };
}

function renderPlan(plan: PipelinePlan, what: string): string {
  if (!plan.created && plan.stages.length === 0) return `No pipeline for ${what}: ${plan.reason}.`;
  const rows = plan.stages.flatMap((stage) =>
    stage.jobs.map((job) => [
      stage.name,
      job.name,
      job.when === 'delayed' ? `delayed ${job.startIn}` : job.when,
      job.allowFailure ? 'yes' : 'no',
      job.needs === null ? '-' : job.needs.length === 0 ? '[]' : job.needs.join(', '),
    ]),
  );
  const jobs = rows.length;
  const head = plan.created
    ? `Pipeline for ${what}: ${jobs} job${jobs === 1 ? '' : 's'} in ${plan.stages.length} stage${plan.stages.length === 1 ? '' : 's'}`
    : `No pipeline for ${what}: ${plan.reason}`;
  return `${head}\n\n${renderTable([['STAGE', 'JOB', 'WHEN', 'ALLOW FAILURE', 'NEEDS'], ...rows])}`;
}

/** The config's problems as one error, each with its file and line. */
export function configErrors(file: string, problems: readonly CiProblem[]): ConfigError {
  return new ConfigError(`${file}: ${problems.length} error${problems.length === 1 ? '' : 's'}`, {
    code: 'CI_CONFIG_INVALID',
    problems: problems.map((problem) => `${formatLocation(problem.location)}: ${problem.message}`),
    hint: 'GitLab would refuse to create this pipeline; fix the lines above',
  });
}
