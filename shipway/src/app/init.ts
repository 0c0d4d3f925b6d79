import { existingState, writeRepositoryFile } from '../adapters/files/repository-files.js';
import { runCommand } from '../adapters/process/run-command.js';
import { ExternalError, UsageError } from '../core/errors.js';
import { DEFAULT_PORT, detectProject } from '../core/init/detect-project.js';
import type { InitChoices, InitSettings, ProjectFacts } from '../core/init/init-facts.js';
import { nextSteps } from '../core/init/next-steps.js';
import type { ExistingState, InitPlan } from '../core/init/plan-init.js';
import { planInit, renderInitFiles } from '../core/init/plan-init.js';
import { resolveSettings } from '../core/init/resolve-settings.js';
import { SHIPWAY_VERSION } from '../version.js';
import type { AppContext } from './context.js';
import { readSnapshot } from './init-snapshot.js';

export interface InitOptions extends InitChoices {
  readonly force: boolean;
  readonly dryRun: boolean;
  /** Asks a person what could not be detected; undefined with --yes or without a terminal. */
  readonly ask?: ((question: string) => Promise<string>) | undefined;
}

export interface InitResult {
  /** up-to-date: nothing to do; planned: --dry-run; refused: a file in the way, nothing written. */
  readonly status: 'up-to-date' | 'planned' | 'refused' | 'applied';
  readonly facts: ProjectFacts;
  readonly settings: InitSettings;
  readonly notes: readonly string[];
  readonly plan: InitPlan;
  readonly nextSteps: readonly string[];
}

/** Asks only for what detection left open; an empty answer keeps the default. */
async function askMissing(facts: ProjectFacts, options: InitOptions): Promise<InitChoices> {
  const ask = options.ask;
  if (ask === undefined) return options;
  let { app, port, repoUrl } = options;
  if (app === undefined && facts.app.value === '')
    app = (await ask('App name (a DNS label, e.g. my-service): ')).trim() || undefined;
  if (port === undefined && facts.port === null) {
    const answer = (await ask(`Port the service listens on [${DEFAULT_PORT}]: `)).trim();
    if (answer !== '') {
      if (!/^\d{1,5}$/.test(answer)) throw new UsageError('USAGE', `${JSON.stringify(answer)} is not a port number`);
      port = Number(answer);
    }
  }
  if (repoUrl === undefined && facts.repoUrl === null)
    repoUrl = (await ask('Git URL Argo CD reads this repository from (Enter: a placeholder): ')).trim() || undefined;
  return { ...options, app, port, repoUrl };
}

async function apply(context: AppContext, plan: InitPlan): Promise<void> {
  for (const argv of plan.commands) {
    const [program = 'npm', ...args] = argv;
    context.progress(`running ${argv.join(' ')}`);
    const result = await runCommand(program, args, { cwd: context.cwd, env: { ...context.env } }).catch(
      (error: unknown) => {
        throw new ExternalError('INIT_COMMAND', `${program} could not be started`, { cause: error });
      },
    );
    if (result.code !== 0)
      throw new ExternalError('INIT_COMMAND', `${argv.join(' ')} failed (exit ${result.code}); no file was written`, {
        hint: (result.stderr || result.stdout).trim().split('\n').slice(-3).join(' | '),
      });
  }
  for (const file of plan.files)
    if (file.action === 'create' || file.action === 'overwrite')
      await writeRepositoryFile(context.cwd, file.path, file.content, file.action === 'overwrite');
}

/**
 * `shipway init`: detect the service (core/init/detect-project), ask for what is missing, render
 * every file as data, compare with what is there (core/init/plan-init), then write, all or
 * nothing: a file that would be overwritten without --force, or a symlink on the way, refuses
 * the whole plan.
 */
export async function init(context: AppContext, options: InitOptions): Promise<InitResult> {
  const facts = detectProject(await readSnapshot(context.cwd));
  const choices = await askMissing(facts, options);
  if (choices.app === undefined && facts.app.value === '')
    throw new UsageError('INIT_NO_NAME', 'cannot make an app name from package.json name or the directory name', {
      hint: 'pass --name <app> (a DNS label such as my-service)',
    });
  const { settings, notes } = resolveSettings(facts, choices, SHIPWAY_VERSION);
  const files = renderInitFiles(settings);
  const states = new Map<string, ExistingState>();
  for (const file of files) states.set(file.path, await existingState(context.cwd, file.path));
  const plan = planInit({
    files,
    existing: (path) => states.get(path) ?? { kind: 'missing' },
    force: options.force,
    lockfile: facts.lockfile,
  });
  const result = { facts, settings, notes, plan, nextSteps: nextSteps(settings) };
  if (plan.upToDate) return { ...result, status: 'up-to-date' };
  if (options.dryRun) return { ...result, status: 'planned' };
  if (!plan.applicable) return { ...result, status: 'refused' };
  await apply(context, plan);
  return { ...result, status: 'applied' };
}
