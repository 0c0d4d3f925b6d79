import type { Command } from 'commander';
import { DEFAULT_STATE_DIR } from '../../app/defaults.js';
import { contextFor } from '../context-from-io.js';
import { type CliIo, interruptionOf } from '../io.js';

interface Flags {
  stateDir: string;
  config: string;
  json: boolean;
}

function common(command: Command): Command {
  return command
    .option('--state-dir <dir>', 'where the cluster keeps its state, kubeconfig, images and logs', DEFAULT_STATE_DIR)
    .option('--config <file>', 'the shipway config', 'shipway.yaml')
    .option('--json', 'print the result as JSON', false);
}

export function registerCluster(program: Command, io: CliIo): void {
  const cluster = program
    .command('cluster')
    .description('the embedded cluster: environments that really run on this machine')
    .addHelpText(
      'after',
      `
It follows each environment's branch like Argo CD, runs the Rollout's canary like Argo Rollouts
(pods are local processes started from the image, pulled by digest), and serves each
environment on a stable local URL. Its kubeconfig (<state-dir>/kubeconfig) is found by
\`shipway rollout …\` without flags, and works with kubectl get. The API serves HTTPS on
127.0.0.1 and answers only requests with the bearer token of that kubeconfig (file mode 0600,
a new token and certificate on every \`cluster up\`); the state dir is kept private (0700).`,
    );
  common(cluster.command('up').description('start the cluster in the foreground (Ctrl-C stops it, draining pods)'))
    .option('--api-port <port>', 'port for the API server (default: the last one, else a free one)')
    .option('--remote <remote>', "the Git remote to follow (default: shipway.yaml's git.remote)")
    .option(
      '--registry-dir <dir>',
      'also serve the embedded registry from this directory (its address: <state-dir>/registry.json)',
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
        output.result(`cluster API ${info.api} (kubeconfig ${flags.stateDir}/kubeconfig)`);
        for (const [env, url] of Object.entries(info.urls)) output.result(`  ${env.padEnd(8)} ${url}`);
      }
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      output.progress('stopping: draining pods');
      await cluster.down();
    });
  common(
    cluster
      .command('status')
      .description('per environment: revision, image digest, phase, step, pods ready/total per revision, URL'),
  ).action(async (flags: Flags) => {
    const { context, output } = contextFor(io, flags.json);
    const { clusterStatus } = await import('../../app/cluster.js');
    const { environments } = await clusterStatus(context, { stateDir: flags.stateDir, configFile: flags.config });
    if (output.json) return output.data({ environments });
    for (const env of environments) {
      const rollout = env.rollout;
      const digest = rollout?.canary.image?.split('@')[1] ?? '-';
      const byRevision = new Map<string, { ready: number; total: number }>();
      for (const pod of env.pods) {
        const entry = byRevision.get(pod.revision) ?? { ready: 0, total: 0 };
        entry.total += 1;
        if (pod.state === 'ready') entry.ready += 1;
        byRevision.set(pod.revision, entry);
      }
      const pods =
        [...byRevision].map(([revision, count]) => `${revision} ${count.ready}/${count.total}`).join(', ') || 'none';
      output.result(
        `${env.environment.padEnd(6)} ${env.url}  ${rollout?.phase ?? 'NotSynced'}${rollout?.message ? ` (${rollout.message})` : ''}  revision ${rollout?.canary.revision ?? '-'}  step ${rollout?.step ? `${rollout.step.current}/${rollout.step.total}` : '-'}  image ${digest}  pods ${pods}${env.sync?.error ? `  sync error: ${env.sync.error}` : ''}`,
      );
    }
  });
  common(cluster.command('down').description('stop the cluster that `cluster up` started')).action(
    async (flags: Flags) => {
      const { context, output } = contextFor(io, flags.json);
      const { stopCluster } = await import('../../app/cluster.js');
      const result = await stopCluster(context, { stateDir: flags.stateDir, configFile: flags.config });
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
