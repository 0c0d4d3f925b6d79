import { resolve } from 'node:path';
import { type ObjectProblem, validateObject } from '../adapters/kubernetes/validate-object.js';
import { renderOverlay } from '../adapters/kustomize/render-overlay.js';
import type { AppContext } from './context.js';
import { requireEnvironment } from './find-environment.js';
import { loadShipwayConfig } from './load-config.js';

export interface ObjectReport {
  readonly kind: string;
  readonly name: string;
  readonly problems: readonly ObjectProblem[];
}

export interface EnvironmentReport {
  readonly environment: string;
  readonly overlay: string;
  readonly objects: readonly ObjectReport[];
}

export interface ValidateResult {
  readonly valid: boolean;
  readonly environments: readonly EnvironmentReport[];
}

function describe(object: unknown): { kind: string; name: string } {
  const record = typeof object === 'object' && object !== null ? (object as Record<string, unknown>) : {};
  const metadata =
    typeof record.metadata === 'object' && record.metadata !== null ? (record.metadata as Record<string, unknown>) : {};
  return { kind: String(record.kind ?? '?'), name: String(metadata.name ?? '?') };
}

/** `shipway validate`: render each overlay with kustomize and validate every object strictly. */
export async function validate(
  context: AppContext,
  options: { environment?: string | undefined; configFile?: string | undefined },
): Promise<ValidateResult> {
  const config = await loadShipwayConfig(context, options.configFile);
  const environments =
    options.environment === undefined ? config.environments : [requireEnvironment(config, options.environment)];
  const reports: EnvironmentReport[] = [];
  for (const env of environments) {
    context.progress(`rendering ${env.overlay}`);
    const objects = await renderOverlay(resolve(context.cwd, env.overlay), context.env.PATH);
    reports.push({
      environment: env.name,
      overlay: env.overlay,
      objects: objects.map((object) => ({ ...describe(object), problems: validateObject(object) })),
    });
  }
  return {
    valid: reports.every((report) => report.objects.every((object) => object.problems.length === 0)),
    environments: reports,
  };
}
