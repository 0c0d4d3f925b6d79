import { resolve } from 'node:path';
import type { AppContext } from '../context.js';
import { loadShipwayConfig } from '../load-config.js';
import { doraMetrics } from './dora.js';
import { ReleaseHistory } from './release-history.js';
import { RolloutEventLog } from './rollout-event-log.js';

/** `shipway metrics`: the same figures as the dashboard's metrics view, for one app. */
export async function metricsReport(
  context: AppContext,
  options: { configFile?: string | undefined; days: number; now: Date },
) {
  const config = await loadShipwayConfig(context, options.configFile);
  const history = await ReleaseHistory.open(context, config);
  try {
    const events = new RolloutEventLog(resolve(context.cwd, '.shipway', 'dashboard', 'rollout-events.jsonl'));
    return await doraMetrics(config, history, events, { days: options.days, now: options.now });
  } finally {
    await history.dispose();
  }
}
