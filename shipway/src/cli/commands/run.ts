import type { Command } from 'commander';
import type { RunEvent } from '../../app/pipeline-run-model.js';
import type { RunResult } from '../../app/run-pipeline.js';
import { ExternalError } from '../../core/errors.js';
import { contextFor } from '../context-from-io.js';
import { type CliIo, interruptionOf, type Output } from '../io.js';
import { renderTable } from '../render-table.js';

interface RunFlags {
  file: string;
  ref: string[];
  approve: string[];
  yes: boolean;
  reuse: boolean;
  json: boolean;
}

const HELP = `
With no --ref it plays the original flow: HEAD is pushed to dev, then stage, then prod on a local
bare repository standing in for GitLab, and each branch pipeline runs as \`shipway plan\` computes
it: built once and published on dev, promoted to stage and prod, and left as a paused canary in
prod. Jobs run in a shell on this machine against the local stack (the embedded registry and
cluster, started in the background and reused by the next run; \`npx shipway cluster down\`
stops them). Variables: the stack's (AWS_REPOSITORY, KUBECONFIG, SHIPWAY_BASE_IMAGE=host), then
.shipway/variables.env (KEY=VALUE lines, as group and project variables; a "# masked" line above
one keeps its value out of job logs, as secret variables always are).

Files between jobs, as GitLab hands them on: \`cache:\` entries (key, files, fallback_keys, policy,
when) live in the local stack, per project (SHIPWAY_HOME/cache/<project>/jobs/<key>), so every
checkout of the project shares them; they are restored as hard links (a node_modules costs one
link per file) and checked against their manifest first (a job that wrote into one in place voids
it). \`artifacts:paths\` (exclude, untracked, when) reach later jobs per dependencies/needs, as copies.
A job whose image is shipway's tool image (…/shipway:<tag>) finds this shipway on PATH.

A job that declares \`SHIPWAY_REUSE: tree\` (a variable GitLab ignores) promises that its result
depends only on the commit's files (not counting the image pins promotions write in each
overlay's kustomization.yaml), its definition and its variables (not on the branch, the pipeline
or the job id). Once it succeeds, a later pipeline with the same files, job, variables and
received artifacts (and the same PATH, NODE_*, locale and TZ; nothing else of this shell counts)
reuses that success and its artifacts instead of running it (stage and prod would test the code
dev already tested): the job shows "reused", and its log names the pipeline it came from. A rule
or project variable SHIPWAY_REUSE="" turns it off; --no-reuse runs every job and keeps the new
results.

Manual jobs wait: --approve names the ones to run, --yes runs every manual job on the way forward
(deploy-prod, promote-prod) but never one that rolls back (rollback-prod: name it with --approve).
On a terminal, a manual job that is not approved is asked about.

Logs: .shipway/runs/<pipeline>/<job>.log. Exit 0 when every pipeline succeeded (or waits on a
manual job), 3 when a job failed.

Examples:
  npm run pipeline -- --yes                         dev → stage → prod, canary promoted to Healthy
  npx shipway run --ref prod --approve deploy-prod   prod's pipeline, stopping at the canary's pause
  npx shipway run --ref prod --approve deploy-prod,rollback-prod   …and abort it`;

const list = (value: string, previous: string[]) => [
  ...previous,
  ...value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean),
];

const seconds = (ms: number | null) => (ms === null ? '' : `${(ms / 1000).toFixed(1)} s`);
const MARK: Record<string, string> = {
  running: '▶',
  success: '✓',
  failed: '✗',
  skipped: '-',
  manual: '⏸',
  canceled: '✗',
  created: ' ',
};

/** The live view: one line per pipeline and per job state change, on stderr. */
function liveView(progress: (text: string) => void): (event: RunEvent) => void {
  return (event) => {
    if (event.kind === 'pipeline') {
      const stages = event.plan.stages.map(
        (stage) => `${stage.name} [${stage.jobs.map((job) => job.name).join(', ')}]`,
      );
      progress(`\npipeline #${event.id} for ${event.ref} (push): ${stages.join(' → ')}`);
    } else if (event.kind === 'no-pipeline') progress(`\nno pipeline for ${event.ref}: ${event.reason}`);
    else if (event.kind === 'job') {
      const extra =
        event.status === 'manual'
          ? 'waiting for approval (--approve or --yes)'
          : event.status === 'failed'
            ? `log: ${event.log}`
            : event.reused !== undefined
              ? `reused from ${event.reused.ref} #${event.reused.pipeline}`
              : '';
      progress(
        `  ${MARK[event.status] ?? ' '} ${event.job.padEnd(16)} ${event.status.padEnd(8)} ${seconds(event.ms).padStart(7)}  ${extra}`.trimEnd(),
      );
    } else progress(`  pipeline for ${event.ref}: ${event.status} in ${seconds(event.ms)}`);
  };
}

export function registerRun(program: Command, io: CliIo): void {
  program
    .command('run')
    .description(
      "run this repository's .gitlab-ci.yml on this machine: dev → stage → prod against the embedded registry and cluster",
    )
    .option('--file <path>', 'the CI config', '.gitlab-ci.yml')
    .option(
      '--ref <branch>',
      'a branch to push and run (repeatable, in order; default: every environment branch)',
      list,
      [],
    )
    .option('--approve <jobs>', 'manual jobs to run when reached (comma-separated, repeatable)', list, [])
    .option('--yes', 'run every manual job on the way forward (not rollbacks)', false)
    .option('--no-reuse', 'run every job, even one whose result (SHIPWAY_REUSE: tree) is already kept')
    .option('--json', 'print the pipelines, jobs and environments as JSON', false)
    .addHelpText('after', HELP)
    .action((flags: RunFlags) => run(io, flags));
}

async function run(io: CliIo, flags: RunFlags): Promise<void> {
  const signal = interruptionOf(io);
  const { context, output } = contextFor(io, flags.json);
  const { runPipelines } = await import('../../app/run-pipeline.js');
  const result = await runPipelines(context, {
    file: flags.file,
    refs: flags.ref,
    approve: flags.approve,
    yes: flags.yes,
    reuse: flags.reuse,
    ask: askOf(io),
    onEvent: liveView(output.progress),
    signal,
  });
  if (output.json)
    output.data({
      status: result.status,
      ms: result.ms,
      pipelines: result.pipelines,
      environments: result.environments,
      registry: result.stack.registry,
    });
  else renderRun(output, result);
  if (result.status === 'failed') {
    const failed = result.pipelines.flatMap((pipeline) => pipeline.jobs.filter((job) => job.status === 'failed'));
    throw new ExternalError('PIPELINE_FAILED', `the pipeline failed: ${failed.map((job) => job.name).join(', ')}`, {
      hint: `read ${failed[0]?.log ?? 'the job logs in .shipway/runs'}`,
    });
  }
}

/** On a terminal, a manual job that is not approved is asked about; elsewhere it waits. */
function askOf(io: CliIo) {
  const question = io.ask;
  return question === undefined
    ? undefined
    : async (job: { name: string; allowFailure: boolean }, ref: string) =>
        /^y(es)?$/i.test(
          (
            await question(
              `${ref}: ${job.name} is a manual job${job.allowFailure ? '' : ' (it blocks the pipeline)'}. Run it now? [y/N] `,
            )
          ).trim(),
        );
}

function renderRun(output: Output, result: RunResult): void {
  // Each pipeline's own row (its wall time: pushing, planning and every job) after its jobs.
  const rows = result.pipelines.flatMap((pipeline) => [
    ...pipeline.jobs.map((job) => [
      pipeline.ref,
      job.stage,
      job.name,
      job.reused === undefined ? job.status : `${job.status} (reused from ${job.reused.ref})`,
      seconds(job.ms),
    ]),
    [pipeline.ref, '', '(pipeline)', pipeline.status, seconds(pipeline.ms)],
  ]);
  output.result(`\n${renderTable([['REF', 'STAGE', 'JOB', 'STATUS', 'TIME'], ...rows])}`);
  output.result(
    `\n${renderTable([
      ['ENV', 'URL', 'PHASE', 'IMAGE DIGEST'],
      ...result.environments.map((env) => [
        env.environment,
        env.url,
        env.message ? `${env.phase} (${env.message})` : env.phase,
        env.digest ?? '-',
      ]),
    ])}`,
  );
  output.result(
    `\npipelines ${result.status} in ${seconds(result.ms)}; registry ${result.stack.registry}; logs in .shipway/runs; stop the local stack with \`npx shipway cluster down\``,
  );
}
