import type { AppContext } from '../app/context.js';
import { type CliIo, createOutput, type Output } from './io.js';

/** The use-case context and the command's output for one invocation. */
export function contextFor(io: CliIo, json: boolean): { context: AppContext; output: Output } {
  const output = createOutput(io, json);
  return { context: { cwd: io.cwd, env: io.env, progress: output.progress }, output };
}
