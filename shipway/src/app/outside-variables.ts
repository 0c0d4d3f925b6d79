import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { maskedValues } from '../core/runner/masked-variables.js';
import type { AppContext } from './context.js';
import type { LocalStack } from './local-stack.js';
import { parseDotenv } from './run-job.js';

/** Group and project variables for the local run: the stack's defaults, then .shipway/variables.env. */
export function outsideVariables(context: AppContext, stack: LocalStack, app: string): Map<string, string> {
  const variables = new Map<string, string>([
    ['AWS_REPOSITORY', `${stack.registry}/${app}`],
    ['KUBECONFIG', stack.kubeconfig],
    // No Docker Hub on this machine: the image's Node runtime comes from the host.
    ['SHIPWAY_BASE_IMAGE', 'host'],
  ]);
  const file = resolve(context.cwd, '.shipway', 'variables.env');
  if (existsSync(file)) for (const [name, value] of parseDotenv(readFileSync(file, 'utf8'))) variables.set(name, value);
  return variables;
}

/** The values of .shipway/variables.env marked `# masked`: job logs never show them. */
export function maskedOutside(context: AppContext, outside: ReadonlyMap<string, string>): string[] {
  const file = resolve(context.cwd, '.shipway', 'variables.env');
  return existsSync(file) ? maskedValues(readFileSync(file, 'utf8'), outside, file) : [];
}
