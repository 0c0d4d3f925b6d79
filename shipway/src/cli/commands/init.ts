import type { Command } from 'commander';
import type { InitResult } from '../../app/init.js';
import { RefusedError, UsageError } from '../../core/errors.js';
import type { PlannedFile } from '../../core/init/plan-init.js';
import { contextFor } from '../context-from-io.js';
import type { CliIo, Output } from '../io.js';
import { renderTable } from '../render-table.js';

interface InitFlags {
  yes: boolean;
  force: boolean;
  dryRun: boolean;
  json: boolean;
  dockerfile: boolean;
  canary: boolean;
  name?: string;
  port?: string;
  namespacePrefix?: string;
  component?: string;
  repoUrl?: string;
}

const HELP = `
Run it at the root of a Node.js service repository. It reads package.json (name, scripts.start,
main, scripts.build), the source (the port from listen(<n>), PORT ?? <n> or PORT || <n>; the
/healthz, /health and /readyz routes), the lockfile and the origin remote, and writes:
  shipway.yaml, .gitlab-ci.yml (one include: component: of the group's shipway component),
  .dockerignore, deployment/base, deployment/{dev,stage,prod}, deployment/argocd/applicationset.yaml
  and, with --dockerfile, a Dockerfile.
Without a package-lock.json it runs npm install --package-lock-only first.

It never overwrites a file that differs unless --force is given, and never writes through a
symlink. Re-running it changes nothing. Without --yes, on a terminal, it asks for what it could
not detect; otherwise it takes the defaults and says so.

Exit codes: 0 written (or nothing to do), 2 not a Node.js service or a bad option,
3 npm install failed, 4 refused: a file would be overwritten (--force) or a symlink is in the
way; nothing was written.`;

const LABEL: Record<PlannedFile['action'], string> = {
  create: 'create',
  unchanged: 'unchanged',
  overwrite: 'overwrite',
  conflict: 'would overwrite',
  blocked: 'blocked',
};

function parsePort(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,5}$/.test(text)) throw new UsageError('USAGE', `--port ${JSON.stringify(text)} is not a port number`);
  return Number(text);
}

function renderHuman(output: Output, result: InitResult): void {
  const { facts } = result;
  const rows = [
    ['app', result.settings.app, facts.app.source],
    ['start', ['node', facts.start.value.entry, ...facts.start.value.args].join(' '), facts.start.source],
    ['build', facts.build?.value ?? '(none)', facts.build?.source ?? 'no build script: the image ships the sources'],
    ['port', String(result.settings.port), facts.port?.source ?? 'not found in the source'],
    ['health', `liveness ${result.settings.liveness}, readiness ${result.settings.readiness}`, facts.health.source],
    ['lockfile', facts.lockfile ? 'package-lock.json' : '(none)', ''],
    ['node', result.settings.nodeVersion, facts.nodeVersion.source],
    ['repoURL', result.settings.repoUrl, facts.repoUrl === null ? 'no origin remote' : 'git remote get-url origin'],
  ];
  output.result(`detected:\n${renderTable(rows.map((row) => ['', ...row]))}`);
  if (result.notes.length > 0) output.result(`notes:\n${result.notes.map((note) => `  - ${note}`).join('\n')}`);
  const files = result.plan.files.map((file) => ['', LABEL[file.action], file.path, file.reason ?? '']);
  const commands = result.plan.commands.map((argv) => ['', 'run', argv.join(' '), '']);
  output.result(`plan:\n${renderTable([...files, ...commands])}`);
}

function renderJson(output: Output, result: InitResult): void {
  output.data({
    status: result.status,
    facts: result.facts,
    settings: result.settings,
    notes: result.notes,
    files: result.plan.files.map(({ path, action, reason, content }) => ({
      path,
      action,
      ...(reason === undefined ? {} : { reason }),
      ...(action === 'unchanged' ? {} : { content }),
    })),
    commands: result.plan.commands,
    nextSteps: result.nextSteps,
  });
}

function refusal(result: InitResult): RefusedError {
  const blocked = result.plan.files.filter((file) => file.action === 'blocked');
  if (blocked.length > 0)
    return new RefusedError(
      'INIT_BLOCKED',
      `shipway init cannot write ${blocked.map((file) => file.path).join(', ')}: ${blocked[0]?.reason ?? ''}; nothing was written`,
      {
        hint: 'replace the symlink (or whatever is in the way) with a regular file or directory, then run it again',
      },
    );
  const conflicts = result.plan.files.filter((file) => file.action === 'conflict').map((file) => file.path);
  return new RefusedError(
    'INIT_WOULD_OVERWRITE',
    `shipway init would overwrite ${conflicts.length} file${conflicts.length === 1 ? '' : 's'} that differ${conflicts.length === 1 ? 's' : ''}: ${conflicts.join(', ')}; nothing was written`,
    {
      hint: '--dry-run --json shows what it would write; --force overwrites them',
    },
  );
}

export function registerInit(program: Command, io: CliIo): void {
  program
    .command('init')
    .description('set up shipway in a Node.js service repository: shipway.yaml, manifests, Argo CD and the CI include')
    .option('-y, --yes', 'ask nothing: take what was detected and the defaults', false)
    .option('--force', 'overwrite files that differ from what init writes', false)
    .option('--dry-run', 'print the plan; write nothing', false)
    .option(
      '--json',
      'print {status, facts, settings, notes, files: [{path, action, content}], commands, nextSteps}',
      false,
    )
    .option('--dockerfile', 'also write a Dockerfile (the daemonless build needs none)', false)
    .option('--no-canary', 'no canary in prod: a new image rolls out at once, no promote/rollback jobs')
    .option('--name <app>', 'the app name (default: package.json name as a DNS label)')
    .option('--port <port>', 'the port the service listens on (default: found in the source, else 8080)')
    .option('--namespace-prefix <prefix>', 'namespaces are <prefix>-dev, -stage, -prod (default: the app name)')
    .option(
      '--component <project>',
      "the GitLab project of the group's shipway component (default: <the remote's group>/shipway)",
    )
    .option('--repo-url <url>', 'the Git URL Argo CD reads (default: git remote get-url origin)')
    .addHelpText('after', HELP)
    .action(async (flags: InitFlags) => {
      const { context, output } = contextFor(io, flags.json);
      const { init } = await import('../../app/init.js');
      const result = await init(context, {
        app: flags.name,
        port: parsePort(flags.port),
        namespacePrefix: flags.namespacePrefix,
        componentProject: flags.component,
        repoUrl: flags.repoUrl,
        canary: flags.canary,
        dockerfile: flags.dockerfile,
        force: flags.force,
        dryRun: flags.dryRun,
        ask: flags.yes ? undefined : io.ask,
      });
      if (output.json) renderJson(output, result);
      else if (result.status === 'up-to-date')
        output.result('nothing to do: every file is already as shipway init writes it');
      else renderHuman(output, result);
      if (result.status === 'refused') throw refusal(result);
      if (result.status === 'planned' && !output.json) output.result('\n(dry run: nothing was written)');
      if (output.json || result.status !== 'applied') return;
      const written = result.plan.files.filter((file) => file.action === 'create' || file.action === 'overwrite');
      output.result(
        `\nwrote ${written.length} file${written.length === 1 ? '' : 's'}.\n\n${result.nextSteps.join('\n')}`,
      );
    });
}
