import type { AppContext } from '../app/context.js';
import { secretsIn } from '../app/git-remote.js';
import { type CliIo, createOutput, type Output } from './io.js';

/** The use-case context and the command's output for one invocation. */
export function contextFor(io: CliIo, json: boolean): { context: AppContext; output: Output } {
  const output = createOutput(io, json, secretsIn(io.env));
  return { context: { cwd: io.cwd, env: io.env, progress: output.progress }, output };
}
