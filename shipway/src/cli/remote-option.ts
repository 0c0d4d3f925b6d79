import type { Command } from 'commander';

/** --remote for the commands that read or write the GitOps branches (core/config/choose-git-remote.ts). */
export function remoteOption(command: Command): Command {
  return command.option(
    '--remote <name|url>',
    "the GitOps remote: a remote name, URL or path (default: SHIPWAY_GIT_REMOTE, else shipway.yaml's git.remote; outside CI, after `shipway run` in this checkout, the local stack's GitLab stand-in it pushed to)",
  );
}
