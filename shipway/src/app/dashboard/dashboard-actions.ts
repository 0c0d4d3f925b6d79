import type { ShipwayConfig } from '../../core/config/shipway-config.js';
import { RefusedError } from '../../core/errors.js';
import type { AppContext } from '../context.js';
import { requireEnvironment } from '../find-environment.js';
import { promote } from '../promote.js';
import { rollback } from '../rollback.js';
import { abortRollout, rolloutAction } from '../rollout.js';

/**
 * What the dashboard can do, each naming the exact digest the person confirmed:
 * - `release`: `shipway promote <env> --from <upstream>` (a manual gate needs `approve`, as --approve);
 * - `promote`, `promote-full`, `retry`: `shipway rollout <verb> <env> --expect-digest <digest>`;
 * - `abort`: `shipway rollout abort <env>` (and the revert in Git), refused unless the canary runs `digest`;
 * - `rollback`: `shipway rollback <env> --to <digest>`.
 */
export type DashboardAction =
  | { readonly kind: 'release'; readonly environment: string; readonly digest: string; readonly approve: boolean }
  | {
      readonly kind: 'promote' | 'promote-full' | 'retry' | 'abort';
      readonly environment: string;
      readonly digest: string;
    }
  | { readonly kind: 'rollback'; readonly environment: string; readonly digest: string };

export interface ActionOutcome {
  readonly kind: DashboardAction['kind'];
  readonly environment: string;
  readonly digest: string;
  /** One line for people: what was done. */
  readonly message: string;
  readonly result: unknown;
}

/** Runs one action through the same use-case and gates as the CLI; refusals are RefusedError (nothing changed). */
export async function performAction(
  context: AppContext,
  config: ShipwayConfig,
  action: DashboardAction,
  options: { configFile?: string | undefined; kubeconfig?: string | undefined },
): Promise<ActionOutcome> {
  const env = requireEnvironment(config, action.environment);
  const base = { kind: action.kind, environment: env.name, digest: action.digest };
  const common = { environment: env.name, configFile: options.configFile };
  const rolloutOptions = { ...common, kubeconfig: options.kubeconfig, expectDigest: action.digest };
  switch (action.kind) {
    case 'release': {
      if (env.from === undefined)
        throw new RefusedError('NO_UPSTREAM', `${env.name} has no upstream environment to promote from`);
      const result = await promote(context, {
        ...common,
        from: env.from,
        approve: action.approve,
        expectDigest: action.digest,
      });
      return { ...base, message: `${env.name}: ${result.status} ${result.image}`, result };
    }
    case 'abort': {
      const result = await abortRollout(context, { ...rolloutOptions, revert: true });
      return { ...base, message: `${env.name}: ${result.abort.message}`, result };
    }
    case 'rollback': {
      const result = await rollback(context, { ...common, to: action.digest });
      return { ...base, message: `${env.name}: ${result.status} to ${result.image}`, result };
    }
    default: {
      const result = await rolloutAction(context, { ...rolloutOptions, verb: action.kind });
      return { ...base, message: `${env.name}: ${result.message}`, result };
    }
  }
}
