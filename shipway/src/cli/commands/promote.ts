import type { Command } from 'commander';
import { contextFor } from '../context-from-io.js';
import type { CliIo } from '../io.js';
import { remoteOption } from '../remote-option.js';

export function registerPromote(program: Command, io: CliIo): void {
  remoteOption(program.command('promote'))
    .description("pin an image in an environment's overlay on its GitOps branch, as one [skip ci] commit")
    .argument('<env>', 'the environment to promote, as named in shipway.yaml')
    .option('--image <ref>', 'the image to pin: repository[:tag][@sha256:digest]')
    .option(
      '--from <env>',
      "copy the exact image (name, tag, digest) the upstream environment runs (default: the environment's from: in shipway.yaml)",
    )
    .option('--approve', 'open a manual gate (a manual GitLab job opens it by itself)', false)
    .option('--dry-run', 'print the plan and the new kustomization; change nothing', false)
    .option(
      '--dotenv <file>',
      'write IMAGE_REPOSITORY, IMAGE_TAG, IMAGE_DIGEST, IMAGE_REF of the pinned image (GitLab dotenv report)',
    )
    .option('--config <file>', 'the shipway config', 'shipway.yaml')
    .option('--json', 'print the result as JSON', false)
    .addHelpText(
      'after',
      `
Examples:
  $ shipway promote dev --image 127.0.0.1:5000/hello:3f2a9c1@sha256:<64 hex>
  $ shipway promote stage --from dev
  $ shipway promote stage              (from: dev in shipway.yaml)
  $ shipway promote prod --from stage --approve --dry-run

Re-running a promotion that is already in place changes nothing and exits 0. When another
pipeline pushes to the branch at the same time, shipway re-reads the branch and retries.
Credentials: SHIPWAY_GIT_TOKEN, CI_PUSH_TOKEN (+ CI_USERNAME) or CI_JOB_TOKEN, handed to git
through GIT_ASKPASS; never in the remote URL, never printed.`,
    )
    .action((env: string, options: PromoteFlags) => promote(io, env, options));
}

interface PromoteFlags {
  image?: string;
  from?: string;
  approve: boolean;
  dryRun: boolean;
  dotenv?: string;
  config: string;
  json: boolean;
  remote?: string;
}

async function promote(io: CliIo, env: string, options: PromoteFlags): Promise<void> {
  const { context, output } = contextFor(io, options.json);
  const result = await (await import('../../app/promote.js')).promote(context, {
    environment: env,
    image: options.image,
    from: options.from,
    approve: options.approve,
    dryRun: options.dryRun,
    configFile: options.config,
    remote: options.remote,
  });
  if (options.dotenv !== undefined && result.status !== 'planned') {
    const { writeDotenv } = await import('../../app/write-dotenv.js');
    await writeDotenv(context, options.dotenv, result.repository, result.tag ?? '', result.digest ?? '');
  }
  if (output.json) return output.data(result);
  if (result.status === 'unchanged') {
    return output.result(`${result.environment} already runs ${result.image}; nothing to do`);
  }
  if (result.status === 'planned') {
    output.result(
      `would promote ${result.environment} (${result.branch}): ${result.previous ?? '(none)'} -> ${result.image}`,
    );
    return output.result(`--- ${result.file}\n${result.kustomization ?? ''}`);
  }
  const from = result.source === null ? '' : ` from ${result.source.environment}`;
  output.result(
    `promoted ${result.environment}${from} to ${result.image} (${result.branch} @ ${result.commit?.slice(0, 12) ?? ''})`,
  );
}
