import { realpathSync } from 'node:fs';
import { runCommand } from '../process/run-command.js';
import { runGit } from './run-git.js';

export interface GitInstallation {
  /** `git --version`'s line, e.g. `git version 2.39.5`. */
  readonly version: string;
  /** The directory of git's helper programs (`git --exec-path`). */
  readonly execPath: string;
  /** The real path of the `git` found on PATH. */
  readonly binary: string;
}

/** This machine's git; undefined when it is not installed. */
export async function gitInstallation(): Promise<GitInstallation | undefined> {
  const version = await runGit(['--version']).catch(() => undefined);
  const execPath = await runGit(['--exec-path']).catch(() => undefined);
  if (version?.code !== 0 || execPath?.code !== 0) return undefined;
  // The shell's lookup, not git's: the binary PATH gives, which is the one runGit starts.
  const binary = realpathSync((await runCommand('sh', ['-c', 'command -v git'])).stdout.trim());
  return { version: version.stdout.trim(), execPath: execPath.stdout.trim(), binary };
}
