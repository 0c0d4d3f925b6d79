import type { ShipwayConfig } from '../../core/config/shipway-config.js';
import { computeDora, type DoraMetrics } from '../../core/dora/dora-metrics.js';
import type { ReleaseHistory } from './release-history.js';
import type { RolloutEventLog } from './rollout-event-log.js';

export const MAX_WINDOW_DAYS = 366;

/**
 * DORA metrics for one app over the `days` before `now`, from its GitOps history and the rollout
 * events recorded so far (definitions: core/dora/dora-metrics.ts, docs/dashboard.md).
 */
export async function doraMetrics(
  config: ShipwayConfig,
  history: ReleaseHistory,
  events: RolloutEventLog,
  window: { days: number; now: Date },
): Promise<DoraMetrics & { app: string }> {
  const { snapshot } = await history.refresh();
  const built = snapshot.events
    .filter((event) => event.kind === 'promote' && event.sourceEnvironment === null && event.sourceCommit !== null)
    .map((event) => event.sourceCommit ?? '');
  const metrics = computeDora({
    events: snapshot.events,
    commitTimes: await history.commitTimes(built),
    rolloutEvents: await events.read(config.app),
    environments: config.environments.map((env) => env.name),
    window: {
      start: new Date(window.now.getTime() - window.days * 86_400_000).toISOString(),
      end: window.now.toISOString(),
    },
  });
  return { app: config.app, ...metrics };
}
