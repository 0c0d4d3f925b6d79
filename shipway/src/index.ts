/**
 * shipway's library API: the use-cases the CLI runs, for scripts that drive a delivery without
 * a shell, and the types they take and return. Deliberately small; everything else under dist/
 * is internal and may change in any release.
 *
 *   import { promote, status } from 'shipway';
 *   const context = { cwd: process.cwd(), env: process.env, progress: console.error };
 *   await promote(context, { environment: 'stage', from: 'dev' });
 *
 * Errors are ShipwayError subclasses: UsageError / ConfigError (bad input), ExternalError (git,
 * a registry, Kubernetes), RefusedError (a gate or a policy said no; nothing changed).
 */

import type { AppContext } from './app/context.js';
import type { ValidateResult } from './app/validate.js';

export type { AppContext } from './app/context.js';
export { type InitOptions, type InitResult, init } from './app/init.js';
export { loadShipwayConfig } from './app/load-config.js';
export { type PromoteOptions, type PromoteResult, promote } from './app/promote.js';
export { type RollbackOptions, type RollbackResult, rollback } from './app/rollback.js';
export { type EnvironmentStatus, type StatusResult, status } from './app/status.js';
export type { EnvironmentReport, ValidateResult } from './app/validate.js';
export {
  type EnvironmentConfig,
  parseShipwayConfig,
  type ShipwayConfig,
} from './core/config/shipway-config.js';
export { ConfigError, ExternalError, RefusedError, ShipwayError, UsageError } from './core/errors.js';
export { detectProject } from './core/init/detect-project.js';
export type { ProjectFacts, RepositorySnapshot } from './core/init/init-facts.js';
export { SHIPWAY_VERSION } from './version.js';

/**
 * `shipway validate`: renders each overlay with kustomize and checks every object strictly. The
 * Kubernetes models load on the first call (they take most of a second to import), not on
 * `import 'shipway'`.
 */
export async function validate(
  context: AppContext,
  options: { environment?: string | undefined; configFile?: string | undefined } = {},
): Promise<ValidateResult> {
  return (await import('./app/validate.js')).validate(context, options);
}
