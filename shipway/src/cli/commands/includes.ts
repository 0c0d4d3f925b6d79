import type { Command } from 'commander';
import { contextFor } from '../context-from-io.js';
import type { CliIo } from '../io.js';

interface FetchFlags {
  file: string;
  includeDir: string;
  ref?: string;
  tag?: string;
  var: string[];
  server?: string;
  token?: string;
  update: boolean;
  templateServer: string;
  templateRef?: string;
  json: boolean;
}

const HELP = `
Fetches every include of the CI config that is not in the repository into the include directory,
where \`plan\`, \`lint\` and \`run\` read them offline (layout: docs/plan.md):
  component:  GitLab's API: ~latest and partial versions (1, 1.2) resolve to the latest release,
              any version to its commit; templates/<name>.yml or templates/<name>/template.yml
  project:    GitLab's API: the file at the ref's commit (the default branch without ref:)
  remote:     HTTP GET without credentials; integrity: sha256-… is checked
  template:   lib/gitlab/ci/templates/<name> of gitlab-org/gitlab on --template-server, at the
              tag of the server's version (v17.3.1-ee), else master (--template-ref to choose)
Each file is pinned in includes.lock.json (commit and sha256). Run again, it fetches only what is
missing, at the pinned commit, and refuses content that changed; --update resolves every ref again.
include:rules are not evaluated: every include any pipeline may use is fetched. Included files'
own includes are fetched too. Token: --token, else $GITLAB_TOKEN, else $CI_JOB_TOKEN (a job
token); none for public projects. Remote hosts never receive it. Server: --server or $CI_SERVER_URL.

Examples:
  GITLAB_TOKEN=glpat-… shipway includes fetch --server https://gitlab.example.com
  shipway includes fetch --update                  re-resolve ~latest, branches and remote files`;

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerIncludes(program: Command, io: CliIo): void {
  const includes = program
    .command('includes')
    .description('fetch the includes GitLab would read from outside the repository, for offline plans');
  includes
    .command('fetch')
    .description('fetch and pin component, project, remote and template includes into the include directory')
    .option('--file <path>', 'the CI config', '.gitlab-ci.yml')
    .option('--include-dir <dir>', 'where the includes are kept', '.shipway/includes')
    .option(
      '--ref <branch>',
      'the branch whose pipeline is read (variables in include paths); default: the current one',
    )
    .option('--tag <tag>', 'a tag pipeline instead')
    .option('--var <KEY=VALUE>', 'a project variable include paths may use; repeatable', collect, [])
    .option('--server <url>', 'the GitLab server (default: $CI_SERVER_URL)')
    .option('--token <token>', 'a GitLab token (default: $GITLAB_TOKEN, else $CI_JOB_TOKEN)')
    .option('--update', 'resolve refs, versions and remote files again instead of keeping the pinned ones', false)
    .option('--template-server <url>', 'where GitLab templates are read', 'https://gitlab.com')
    .option('--template-ref <ref>', "the ref of gitlab-org/gitlab (default: the server's version tag, else master)")
    .option('--json', 'print what was fetched as JSON', false)
    .addHelpText('after', HELP)
    .action(async (flags: FetchFlags) => {
      const { context, output } = contextFor(io, flags.json);
      const [{ fetchIncludes }, { parseVariableArgs }] = await Promise.all([
        import('../../app/fetch-includes.js'),
        import('../../app/plan-ci.js'),
      ]);
      const result = await fetchIncludes(context, {
        file: flags.file,
        includeDir: flags.includeDir,
        ref: flags.ref,
        tag: flags.tag,
        variables: parseVariableArgs(flags.var),
        server: flags.server,
        token: flags.token,
        update: flags.update,
        templateServer: flags.templateServer,
        templateRef: flags.templateRef,
      });
      if (output.json)
        output.data({ dir: result.dir, fetched: result.fetched.map(({ include, entry }) => ({ include, ...entry })) });
      else if (result.fetched.length === 0) output.result(`Nothing to fetch: ${result.dir} has every include.`);
      else
        for (const { include, entry } of result.fetched)
          output.result(
            `${include} → ${entry.path} (${entry.commit === undefined ? `sha256 ${entry.sha256}` : `commit ${entry.commit}`})`,
          );
    });
}
