import type { Command } from 'commander';
import { ConfigError } from '../../core/errors.js';
import { formatLocation } from '../../core/pipeline/ci-yaml.js';
import type { CiProblem } from '../../core/pipeline/load-ci-config.js';
import type { Downstream, PipelinePlan, PlannedJob } from '../../core/pipeline/plan-pipeline.js';
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
  protected?: boolean;
  includeDir?: string;
  input: string[];
  server?: string;
  json: boolean;
}

const EXAMPLES = `
Examples:
  shipway plan --ref dev                         the pipeline a push to dev creates
  shipway plan --tag v1.2.0 --json               a tag pipeline, as JSON
  shipway plan --ref feature/x --source merge_request_event --target-branch main
  shipway plan --ref main --source schedule --var NIGHTLY=true
  shipway plan --ref dev --changed service/src/server.ts   rules:changes against these files
  shipway plan --ref main --input environment=staging     a main file with a spec:inputs header

Without --changed, rules:changes is true, as GitLab treats a new branch, a tag or a schedule.
The default branch and shipway.yaml's environment branches are protected (CI_COMMIT_REF_PROTECTED)
unless --no-protected says otherwise. include: component/project/remote/template are read from
the include directory (--include-dir, default .shipway/includes; \`shipway includes fetch\` fills
it; layout in docs/plan.md); shipway's own deliver component comes from the installed package.
--json prints {"created", "reason", "errors", "notes", "stages": [{"name", "jobs": [{"name",
"when", "allowFailure", "needs", "stage", "startIn"}]}]}, and for a job that has them
"allowFailureExitCodes", "dependencies", "parallel" ({job, index, total, variables}) and
"trigger" (its child pipeline's plan, the same shape, or the project it triggers). Exit 2 when
the config (or a child pipeline's) has errors.`;

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
    .option('--protected', 'the ref is protected (CI_COMMIT_REF_PROTECTED=true)')
    .option('--no-protected', 'the ref is not protected (default: only the default and environment branches are)')
    .option('--include-dir <dir>', 'where includes from outside the repository are kept', '.shipway/includes')
    .option(
      '--input <name=value>',
      "a pipeline input for the main file's spec:inputs (JSON values typed); repeatable",
      collect,
      [],
    )
    .option('--server <url>', 'the GitLab server, for CI_SERVER_* (default: $CI_SERVER_URL, else https://gitlab.com)')
    .option('--json', 'print the plan as JSON', false)
    .addHelpText('after', EXAMPLES)
    .action(async (flags: PlanFlags) => {
      const { context, output } = contextFor(io, flags.json);
      const { planCi, parseVariableArgs, parseInputArgs } = await import('../../app/plan-ci.js');
      const { plan, trigger, config } = await planCi(context, {
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
        protected: flags.protected,
        includeDir: flags.includeDir,
        inputs: parseInputArgs(flags.input),
        server: flags.server,
      });
      for (const note of config.notes) output.progress(note);
      if (output.json) output.data({ ...planJson(plan), notes: config.notes });
      else {
        const what = trigger.tag === undefined ? `branch ${trigger.branch}` : `tag ${trigger.tag}`;
        output.result(renderPlan(plan, `${what} (${trigger.source})`));
      }
      const problems = [...plan.errors, ...childErrors(plan)];
      if (problems.length > 0) throw configErrors(flags.file, problems);
    });
}

/** The errors of the child pipelines trigger jobs start (GitLab would fail those trigger jobs). */
function childErrors(plan: PipelinePlan): CiProblem[] {
  return [...plan.downstream].flatMap(([job, downstream]) =>
    downstream.kind === 'child' && downstream.plan !== null
      ? [...downstream.plan.errors, ...childErrors(downstream.plan)].map((error) => ({
          ...error,
          message: `child pipeline of ${job}: ${error.message}`,
        }))
      : [],
  );
}

export function planJson(plan: PipelinePlan): Record<string, unknown> {
  return {
    created: plan.created,
    reason: plan.reason,
    errors: plan.errors.map((error) => ({ ...error.location, message: error.message })),
    stages: plan.stages.map((stage) => ({
      name: stage.name,
      jobs: stage.jobs.map((job) => jobJson(job, plan.downstream.get(job.name))),
    })),
  };
}

/**
 * A job as JSON: name, when, allowFailure, needs, stage and startIn always; allowFailureExitCodes,
 * dependencies, parallel and trigger only when the job has them (a large plan stays small).
 */
function jobJson(job: PlannedJob, downstream: Downstream | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {
    name: job.name,
    when: job.when,
    allowFailure: job.allowFailure,
    needs: job.needs,
    stage: job.stage,
    startIn: job.startIn,
  };
  if (job.allowFailureExitCodes !== null) out.allowFailureExitCodes = job.allowFailureExitCodes;
  if (job.dependencies !== null) out.dependencies = job.dependencies;
  if (job.parallel !== null)
    out.parallel = {
      job: job.parallel.job,
      index: job.parallel.index,
      total: job.parallel.total,
      variables: job.parallel.variables === undefined ? null : Object.fromEntries(job.parallel.variables),
    };
  if (downstream !== undefined) out.trigger = downstreamJson(downstream);
  return out;
}

function downstreamJson(downstream: Downstream): unknown {
  if (downstream.kind === 'project') return { project: downstream.project, branch: downstream.branch };
  return { child: downstream.plan === null ? null : planJson(downstream.plan), reason: downstream.reason };
}

function whenOf(job: PlannedJob): string {
  return job.when === 'delayed' ? `delayed ${job.startIn}` : job.when;
}

function allowFailureOf(job: PlannedJob): string {
  if (job.allowFailureExitCodes !== null) return `exit codes ${job.allowFailureExitCodes.join(', ')}`;
  return job.allowFailure ? 'yes' : 'no';
}

/** The plan's rows; a trigger job's child pipeline follows it, indented, and a bridge names its project. */
function planRows(plan: PipelinePlan, indent: string): string[][] {
  return plan.stages.flatMap((stage) =>
    stage.jobs.flatMap((job) => {
      const downstream = plan.downstream.get(job.name);
      const row = [
        `${indent}${stage.name}`,
        `${indent}${job.name}`,
        whenOf(job),
        allowFailureOf(job),
        job.needs === null ? '-' : job.needs.length === 0 ? '[]' : job.needs.join(', '),
      ];
      if (downstream === undefined) return [row];
      if (downstream.kind === 'project')
        return [
          row,
          [
            `${indent}  ↳`,
            `project ${downstream.project}${downstream.branch === null ? '' : ` (${downstream.branch})`}`,
            '',
            '',
            '',
          ],
        ];
      if (downstream.plan === null) return [row, [`${indent}  ↳`, `child pipeline: ${downstream.reason}`, '', '', '']];
      const child = downstream.plan;
      const head = child.created ? 'child pipeline' : `child pipeline, not created: ${child.reason}`;
      return [row, [`${indent}  ↳`, head, '', '', ''], ...planRows(child, `${indent}    `)];
    }),
  );
}

function renderPlan(plan: PipelinePlan, what: string): string {
  if (!plan.created && plan.stages.length === 0) return `No pipeline for ${what}: ${plan.reason}.`;
  const jobs = plan.stages.reduce((sum, stage) => sum + stage.jobs.length, 0);
  const head = plan.created
    ? `Pipeline for ${what}: ${jobs} job${jobs === 1 ? '' : 's'} in ${plan.stages.length} stage${plan.stages.length === 1 ? '' : 's'}`
    : `No pipeline for ${what}: ${plan.reason}`;
  return `${head}\n\n${renderTable([['STAGE', 'JOB', 'WHEN', 'ALLOW FAILURE', 'NEEDS'], ...planRows(plan, '')])}`;
}

/** The config's problems as one error, each with its file and line. */
export function configErrors(file: string, problems: readonly CiProblem[]): ConfigError {
  return new ConfigError('CI_CONFIG_INVALID', `${file}: ${problems.length} error${problems.length === 1 ? '' : 's'}`, {
    problems: problems.map((problem) => `${formatLocation(problem.location)}: ${problem.message}`),
    hint: 'GitLab would refuse to create this pipeline; fix the lines above',
  });
}
