import type { Command } from 'commander';
import type { RolloutOptions } from '../../app/rollout-target.js';
import type { WaitFor } from '../../app/wait-for-rollout.js';
import { parseDuration } from '../../core/duration.js';
import { RefusedError, UsageError } from '../../core/errors.js';
import { isPinnableDigest, PINNABLE_DIGEST_HINT } from '../../core/image-ref.js';
import type { RolloutView } from '../../core/rollout/rollout-view.js';
import { contextFor } from '../context-from-io.js';
import type { CliIo, Output } from '../io.js';
import { remoteOption } from '../remote-option.js';

interface Flags {
  kubeconfig?: string;
  context?: string;
  config: string;
  json: boolean;
}

function common(command: Command): Command {
  return command
    .argument('<env>', 'the environment, as named in shipway.yaml (its rollout name and namespace come from there)')
    .option(
      '--kubeconfig <file>',
      'kubeconfig file (default: KUBECONFIG, then base64 KUBE_CONFIG, then the embedded cluster, then in-cluster)',
    )
    .option('--context <name>', 'kubeconfig context to use')
    .option('--config <file>', 'the shipway config', 'shipway.yaml')
    .option('--json', 'print the result as JSON', false);
}

function options(env: string, flags: Flags): RolloutOptions {
  return { environment: env, kubeconfig: flags.kubeconfig, context: flags.context, configFile: flags.config };
}

function render(view: RolloutView): string {
  const lines = [
    `Name:      ${view.name} (namespace ${view.namespace})`,
    `Status:    ${view.phase}${view.message ? ` - ${view.message}` : ''}`,
    ...(view.step === null ? [] : [`Step:      ${view.step.current}/${view.step.total}`]),
    `Weight:    desired ${view.desiredWeight}%, actual ${view.actualWeight}%`,
    `Stable:    ${view.stable.revision ?? '-'}  ${view.stable.image ?? ''}`.trimEnd(),
    `Canary:    ${view.canary.revision ?? '-'}  ${view.canary.image ?? ''}`.trimEnd(),
    `Replicas:  ${view.replicas.desired} desired, ${view.replicas.updated} updated, ${view.replicas.available} available`,
  ];
  return lines.join('\n');
}

function finish(output: Output, view: RolloutView): void {
  if (output.json) output.data(view);
  else output.result(render(view));
  if (view.phase === 'Degraded')
    throw new RefusedError('ROLLOUT_DEGRADED', `rollout ${view.name} is Degraded: ${view.message}`);
}

function parseWaitFor(text: string): WaitFor {
  if (text.includes(',')) return { kind: 'any', of: text.split(',').map((part) => parseWaitFor(part.trim())) };
  if (text === 'healthy' || text === 'paused') return { kind: text };
  const step = /^step=(\d+)$/.exec(text);
  if (step !== null) return { kind: 'step', step: Number(step[1]) };
  if (text.startsWith('digest=') && isPinnableDigest(text.slice('digest='.length)))
    return { kind: 'digest', digest: text.slice('digest='.length) };
  throw new UsageError(
    'USAGE',
    `--for must be healthy, paused, step=<n> or digest=<digest>, got ${JSON.stringify(text)}`,
    { hint: PINNABLE_DIGEST_HINT },
  );
}

// Loaded on first use, as every command does, so the CLI starts without the Kubernetes client.
const actions = () => import('../../app/rollout.js');
const waits = () => import('../../app/wait-for-rollout.js');

export function registerRollout(program: Command, io: CliIo): void {
  const rollout = program
    .command('rollout')
    .description('watch and drive the Argo Rollouts canary of an environment through the Kubernetes API')
    .addHelpText(
      'after',
      '\nNeeds on the Rollout: get, list, watch, patch on rollouts and rollouts/status (argoproj.io), list on replicasets (apps).',
    );
  registerStatus(rollout, io);
  registerWait(rollout, io);
  registerPromote(rollout, io);
  for (const [verb, description] of [
    ['retry', 'retry an aborted rollout'],
    ['pause', 'pause the rollout (spec.paused)'],
  ] as const) {
    common(rollout.command(verb).description(description)).action(async (env: string, flags: Flags) => {
      const { context, output } = contextFor(io, flags.json);
      const result = await (await actions()).rolloutAction(context, { ...options(env, flags), verb });
      if (output.json) output.data(result);
      else output.result(result.message);
    });
  }
  registerAbort(rollout, io);
}

function registerStatus(rollout: Command, io: CliIo): void {
  common(
    rollout
      .command('status')
      .description('phase, message, step, weights and revisions, as the Argo Rollouts plugin computes them'),
  )
    .option('--watch', 'keep printing changes until Healthy or Degraded', false)
    .option('--timeout <duration>', 'with --watch: give up after this long', '10m')
    .addHelpText('after', '\nExit code: 0 Healthy, Progressing or Paused; 4 Degraded; 3 the API cannot be reached.')
    .action(async (env: string, flags: Flags & { watch: boolean; timeout: string }) => {
      const { context, output } = contextFor(io, flags.json);
      if (!flags.watch) return finish(output, await (await actions()).rolloutStatus(context, options(env, flags)));
      const view = await (await waits()).waitForRollout(context, {
        ...options(env, flags),
        waitFor: { kind: 'healthy' },
        timeoutMs: parseDuration(flags.timeout),
        onChange: (changed) => output.progress(`${changed.phase}${changed.message ? ` - ${changed.message}` : ''}`),
      });
      finish(output, view);
    });
}

function registerWait(rollout: Command, io: CliIo): void {
  common(rollout.command('wait').description('wait until the rollout is healthy, paused, or at a step (uses a watch)'))
    .requiredOption(
      '--for <condition>',
      'healthy | paused | step=<n> | digest=<sha256:…> (the release has been synced: the pod template runs it); a comma list waits for any',
    )
    .option('--timeout <duration>', 'give up after this long (exit 4, saying what it last saw)', '5m')
    .action(async (env: string, flags: Flags & { for: string; timeout: string }) => {
      const { context, output } = contextFor(io, flags.json);
      const view = await (await waits()).waitForRollout(context, {
        ...options(env, flags),
        waitFor: parseWaitFor(flags.for),
        timeoutMs: parseDuration(flags.timeout),
      });
      if (output.json) output.data(view);
      else
        output.result(
          `${view.name}: ${view.phase}${view.step ? ` at step ${view.step.current}/${view.step.total}` : ''}`,
        );
    });
}

function registerPromote(rollout: Command, io: CliIo): void {
  common(rollout.command('promote').description('promote a paused canary to its next step, or --full to the end'))
    .option('--full', 'skip the remaining steps, pauses and analysis (only while an update is in flight)', false)
    .option('--expect-digest <digest>', 'refuse (exit 4) unless the canary runs exactly this image digest')
    .action(async (env: string, flags: Flags & { full: boolean; expectDigest?: string }) => {
      const { context, output } = contextFor(io, flags.json);
      const result = await (await actions()).rolloutAction(context, {
        ...options(env, flags),
        verb: flags.full ? 'promote-full' : 'promote',
        expectDigest: flags.expectDigest,
      });
      if (output.json) output.data(result);
      else output.result(result.message);
    });
}

function registerAbort(rollout: Command, io: CliIo): void {
  remoteOption(
    common(
      rollout
        .command('abort')
        .description('abort the canary (traffic back to stable), then pin the stable image in Git again'),
    ),
  )
    .option('--no-revert', 'only abort; leave Git as it is (Argo CD will try the release again)')
    .action(async (env: string, flags: Flags & { revert: boolean; remote?: string }) => {
      const { context, output } = contextFor(io, flags.json);
      const result = await (await actions()).abortRollout(context, {
        ...options(env, flags),
        revert: flags.revert,
        remote: flags.remote,
      });
      if (output.json) return output.data(result);
      output.result(result.abort.message);
      if (result.rollback !== null)
        output.result(`Git: ${env} pinned back to ${result.rollback.image} (${result.rollback.status})`);
    });
}
