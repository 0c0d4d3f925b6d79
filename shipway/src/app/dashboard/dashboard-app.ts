import { resolve } from 'node:path';
import type { ShipwayConfig } from '../../core/config/shipway-config.js';
import type { AppContext } from '../context.js';
import { loadShipwayConfig } from '../load-config.js';
import { ClusterView } from './cluster-view.js';
import { PipelineRuns } from './pipeline-runs.js';
import { ReleaseHistory } from './release-history.js';

/**
 * One app the dashboard shows: its repository (context.cwd), shipway.yaml, GitOps history,
 * cluster and pipeline runs. Today a repository is an app; a shared local stack (SHIPWAY_HOME)
 * will list several, each opened the same way.
 */
export interface DashboardApp {
  readonly context: AppContext;
  readonly config: ShipwayConfig;
  readonly configFile: string | undefined;
  readonly kubeconfig: string | undefined;
  readonly history: ReleaseHistory;
  readonly cluster: ClusterView;
  readonly runs: PipelineRuns;
}

export async function openDashboardApp(
  context: AppContext,
  options: { configFile?: string | undefined; kubeconfig?: string | undefined },
): Promise<DashboardApp> {
  const config = await loadShipwayConfig(context, options.configFile);
  return {
    context,
    config,
    configFile: options.configFile,
    kubeconfig: options.kubeconfig,
    history: await ReleaseHistory.open(context, config),
    cluster: new ClusterView(context, config, options.kubeconfig),
    runs: new PipelineRuns(resolve(context.cwd, '.shipway', 'runs')),
  };
}
