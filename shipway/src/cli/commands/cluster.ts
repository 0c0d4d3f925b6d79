import type { Command } from 'commander';
import type { EnvironmentState } from '../../local/cluster/embedded-cluster.js';
import { contextFor } from '../context-from-io.js';
import { type CliIo, interruptionOf } from '../io.js';
import { renderTable } from '../render-table.js';

interface Flags {
  stateDir?: string;
  config?: string;
  json: boolean;
}

function common(command: Command): Command {
  return command
    .option(
      '--state-dir <dir>',
      "where the cluster keeps its state, kubeconfig, app records, images and logs (default: the local stack's, $SHIPWAY_HOME/cluster)",
    )
    .option('--json', 'print the result as JSON', false);
}

export function registerCluster(program: Command, io: CliIo): void {
  const cluster = program
    .command('cluster')
    .description('the embedded cluster: environments that really run on this machine')
    .addHelpText(
      'after',
      `
One cluster per user serves every repository: the local stack in $SHIPWAY_HOME (default
$XDG_STATE_HOME/shipway, else ~/.local/state/shipway), which \`shipway run\` starts in the
background with the embedded registry. It follows each registered app's environment branches
like Argo CD, each app in its own namespaces, runs the Rollouts' canaries like Argo Rollouts
(pods are local processes started from the image, pulled by digest), and serves each app's
environments on stable local URLs. \`shipway run\` registers its repository's app while the
cluster runs; \`cluster up\` in a repository registers that one (following its git.remote).
Its kubeconfig (<state-dir>/kubeconfig) is found by \`shipway rollout …\` without flags, and
works with kubectl get. The API serves HTTPS on 127.0.0.1 and answers only requests with the
bearer token of that kubeconfig (file mode 0600, a new token and certificate on every
\`cluster up\`); the state dir is kept private (0700).`,
    );
  registerUp(cluster, io);
  registerStatus(cluster, io);
  registerForget(cluster, io);
  registerDown(cluster, io);
}

function registerUp(cluster: Command, io: CliIo): void {
  common(cluster.command('up').description('start the cluster in the foreground (Ctrl-C stops it, draining pods)'))
    .option('--api-port <port>', 'port for the API server (default: the last one, else a free one)')
    .option('--config <file>', 'also follow the app of this shipway config (default: ./shipway.yaml, if there is one)')
    .option('--remote <remote>', "the Git remote that app is followed on (default: shipway.yaml's git.remote)")
    .option(
      '--registry-dir <dir>',
      "also serve the embedded registry from this directory (its address: <state-dir>/registry.json; default: the local stack's, without --state-dir)",
    )
    .action(async (flags: Flags & { apiPort?: string; remote?: string; registryDir?: string }) => {
      const signal = interruptionOf(io);
      const { context, output } = contextFor(io, flags.json);
      const { startCluster } = await import('../../app/cluster.js');
      const { cluster, info } = await startCluster(context, {
        stateDir: flags.stateDir,
        configFile: flags.config,
        apiPort: flags.apiPort === undefined ? undefined : Number(flags.apiPort),
        remote: flags.remote,
        registryDir: flags.registryDir,
      });
      if (output.json) output.data(info);
      else {
        output.result(`cluster API ${info.api}`);
        for (const [app, urls] of Object.entries(info.apps))
          for (const [env, url] of Object.entries(urls)) output.result(`  ${app} ${env.padEnd(8)} ${url}`);
      }
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      output.progress('stopping: draining pods');
      await cluster.down();
    });
}

function registerStatus(cluster: Command, io: CliIo): void {
  common(
    cluster
      .command('status')
      .description(
        'every app and environment: namespace, URL, phase, step, image digest, pods ready/total per revision',
      ),
  ).action(async (flags: Flags) => {
    const { context, output } = contextFor(io, flags.json);
    const { clusterStatus } = await import('../../app/cluster.js');
    const { apps, environments } = await clusterStatus(context, { stateDir: flags.stateDir });
    const rows = environments.map(summarize);
    if (output.json) return output.data({ apps, environments: rows });
    output.result(
      renderTable([
        ['APP', 'ENV', 'NAMESPACE', 'URL', 'PHASE', 'STEP', 'DIGEST', 'PODS'],
        ...rows.map((row) => [
          row.app,
          row.environment,
          row.namespace,
          row.url,
          row.message === '' ? row.phase : `${row.phase} (${row.message})`,
          row.step ?? '-',
          row.digest === null ? '-' : `${row.digest.slice(0, 19)}…`,
          podCounts(row.pods),
        ]),
      ]),
    );
    for (const row of rows)
      if (row.sync?.error) output.result(`${row.app} ${row.environment}: sync error: ${row.sync.error}`);
    for (const app of apps) if (app.error !== null) output.result(`not followed: ${app.error}`);
  });
}

function registerForget(cluster: Command, io: CliIo): void {
  common(
    cluster
      .command('forget')
      .description('stop following an app: the cluster stops its pods and drops its objects; its Git stand-in stays')
      .argument('<app>', 'the app, as `cluster status` lists it'),
  ).action(async (app: string, flags: Flags) => {
    const { context, output } = contextFor(io, flags.json);
    const { forgetClusterApp } = await import('../../app/cluster.js');
    const result = await forgetClusterApp(context, { stateDir: flags.stateDir, app });
    if (output.json) output.data(result);
    else output.result(`forgot ${app} (${result.forgotten.join(', ')})`);
  });
}

function registerDown(cluster: Command, io: CliIo): void {
  common(cluster.command('down').description('stop the cluster that `cluster up` started')).action(
    async (flags: Flags) => {
      const { context, output } = contextFor(io, flags.json);
      const { stopCluster } = await import('../../app/cluster.js');
      const result = await stopCluster(context, { stateDir: flags.stateDir });
      if (output.json) output.data(result);
      else
        output.result(
          result.stopped
            ? `stopped the cluster (pid ${result.pid})`
            : `the cluster (pid ${result.pid}) was not running${result.reaped > 0 ? `; stopped ${result.reaped} pod process(es) it left running` : ''}`,
        );
    },
  );
}

/** One environment as `cluster status` shows it: the API's state plus its image, digest, phase and step. */
function summarize(state: EnvironmentState) {
  const image = state.rollout?.canary.image ?? null;
  const step = state.rollout?.step;
  return {
    ...state,
    image,
    digest: image?.split('@')[1] ?? null,
    phase: state.rollout?.phase ?? 'NotSynced',
    message: state.rollout?.message ?? '',
    step: step === null || step === undefined ? null : `${step.current}/${step.total}`,
  };
}

function podCounts(pods: EnvironmentState['pods']): string {
  const byRevision = new Map<string, { ready: number; total: number }>();
  for (const pod of pods) {
    const entry = byRevision.get(pod.revision) ?? { ready: 0, total: 0 };
    entry.total += 1;
    if (pod.state === 'ready') entry.ready += 1;
    byRevision.set(pod.revision, entry);
  }
  return [...byRevision].map(([revision, count]) => `${revision} ${count.ready}/${count.total}`).join(', ') || 'none';
}
