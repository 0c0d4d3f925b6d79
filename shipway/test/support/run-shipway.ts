import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runCli } from '../../src/cli/run-cli.js';

export interface ShipwayRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export const SHIPWAY_BIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/** Runs the CLI in this process, with its own cwd, environment and captured streams. */
export async function shipway(
  cwd: string,
  argv: readonly string[],
  env: Record<string, string> = {},
): Promise<ShipwayRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    cwd,
    env: { ...cleanEnv(), ...env },
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
  });
  return { code, stdout, stderr };
}

/** Starts the built CLI as a real process and leaves it running (`cluster up`); the caller stops it. */
export function spawnShipway(cwd: string, argv: readonly string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [SHIPWAY_BIN, ...argv], {
    cwd,
    env: { ...cleanEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs the built CLI as a real process, as a CI job would. */
export function shipwayProcess(
  cwd: string,
  argv: readonly string[],
  env: Record<string, string> = {},
): Promise<ShipwayRun> {
  return new Promise((resolve, reject) => {
    const child = spawnShipway(cwd, argv, env);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/**
 * The test process's environment without CI variables that would change what shipway does (CI
 * and GITLAB_CI among them: outside CI, commands follow the local stack's remote), nor
 * SHIPWAY_HOME and XDG_STATE_HOME (a test that starts a local stack names its own).
 */
export function cleanEnv(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      (entry): entry is [string, string] =>
        entry[1] !== undefined &&
        !/^(CI$|CI_|GITLAB_|SHIPWAY_|XDG_STATE_HOME$|AWS_REPOSITORY$|KUBECONFIG$|KUBE_CONFIG$)/.test(entry[0]),
    ),
  );
}
