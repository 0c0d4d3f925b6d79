import { type CommandResult, runCommand } from '../process/run-command.js';

export interface RunGitOptions {
  readonly cwd?: string | undefined;
  /** The whole environment git sees; this process's when absent. */
  readonly env?: NodeJS.ProcessEnv | undefined;
  readonly input?: string | undefined;
}

/**
 * The one place shipway starts git (shipway/test/layering.test.ts keeps it so): every other
 * module calls one of the typed helpers in adapters/git, which decide the environment
 * (credentials through GIT_ASKPASS, GIT_TERMINAL_PROMPT=0, the committer) in one place. Like
 * runCommand it never throws for a non-zero exit; it rejects when git cannot be started.
 */
export function runGit(args: readonly string[], options: RunGitOptions = {}): Promise<CommandResult> {
  return runCommand('git', args, {
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.input === undefined ? {} : { input: options.input }),
  });
}
