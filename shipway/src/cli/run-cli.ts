import { Command, CommanderError } from 'commander';
import { ConfigError, ShipwayError } from '../core/errors.js';
import { SHIPWAY_VERSION } from '../version.js';
import { registerAnalysis } from './commands/analysis.js';
import { registerCluster } from './commands/cluster.js';
import { registerDashboard } from './commands/dashboard.js';
import { registerImage } from './commands/image.js';
import { registerInit } from './commands/init.js';
import { registerKustomize } from './commands/kustomize.js';
import { registerLint } from './commands/lint.js';
import { registerMetrics } from './commands/metrics.js';
import { registerPlan } from './commands/plan.js';
import { registerPromote } from './commands/promote.js';
import { registerRegistry } from './commands/registry.js';
import { registerRollback } from './commands/rollback.js';
import { registerRollout } from './commands/rollout.js';
import { registerRun } from './commands/run.js';
import { registerStatus } from './commands/status.js';
import { registerValidate } from './commands/validate.js';
import { EXIT, exitCodeFor } from './exit-code.js';
import { type CliIo, redactingIo } from './io.js';

const DESCRIPTION = 'Deliver a service through GitLab CI, an OCI registry and Argo CD / Argo Rollouts.';
const ABOUT = `
Environments, branches and the image come from shipway.yaml at the repository root.
Run \`shipway <command> --help\` for a command's options and examples.

Exit codes:
  0  done (or already done)
  1  a bug in shipway: please report it with the output
  2  bad input: arguments, shipway.yaml, kustomization or manifests
  3  an outside system failed: git, registry, Kubernetes, GitLab
  4  refused by a gate or policy; nothing was changed`;

export function buildProgram(io: CliIo): Command {
  const program = new Command('shipway')
    .description(DESCRIPTION)
    .addHelpText('after', ABOUT)
    .version(SHIPWAY_VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  registerAnalysis(program, io);
  registerCluster(program, io);
  registerDashboard(program, io);
  registerImage(program, io);
  registerInit(program, io);
  registerKustomize(program, io);
  registerLint(program, io);
  registerMetrics(program, io);
  registerPlan(program, io);
  registerPromote(program, io);
  registerRegistry(program, io);
  registerRollback(program, io);
  registerRollout(program, io);
  registerRun(program, io);
  registerStatus(program, io);
  registerValidate(program, io);
  return program;
}

function report(io: CliIo, error: unknown): number {
  const say = (text: string) => io.stderr(`${text}\n`);
  if (error instanceof ShipwayError) {
    say(`shipway: ${error.message}`);
    if (error instanceof ConfigError) for (const problem of error.problems) say(`  - ${problem}`);
    if (error.hint !== undefined) say(`  hint: ${error.hint}`);
    return exitCodeFor(error);
  }
  const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
  say(`shipway: internal error (a bug; please report it with this output):\n${stack}`);
  return EXIT.bug;
}

/**
 * Runs one command line and returns the exit code. Never calls process.exit. Everything it
 * prints (results, progress, commander's usage errors, the error report) goes through one
 * redacting pair of streams.
 */
export async function runCli(argv: readonly string[], unsafeIo: CliIo): Promise<number> {
  const io = redactingIo(unsafeIo);
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    return report(io, error);
  }
}
