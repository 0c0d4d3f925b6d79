/** What a simulated pipeline is for: the ref, how it started, and the commit. */
export interface PipelineTrigger {
  /** A branch pipeline (`push`, `web`, `schedule`, `api`, `trigger`) or a merge request's source branch. */
  readonly branch?: string | undefined;
  readonly tag?: string | undefined;
  readonly source: PipelineSource;
  readonly defaultBranch: string;
  readonly sha: string;
  readonly message: string;
  readonly projectPath: string;
  readonly projectDir: string;
  /** For a merge request pipeline: the branch it merges into. */
  readonly targetBranch?: string | undefined;
  /** For a branch pipeline: whether the branch has an open merge request. */
  readonly openMergeRequests?: boolean | undefined;
  /** Files changed by the push or merge request; undefined when unknown (then `changes` is true). */
  readonly changedFiles?: readonly string[] | undefined;
  /** Whether the ref is protected (CI_COMMIT_REF_PROTECTED); default: the default branch is. */
  readonly protected?: boolean | undefined;
  /** The GitLab server (CI_SERVER_URL and friends); default https://gitlab.com. */
  readonly serverUrl?: string | undefined;
  /** The CI config's path in the repository (CI_CONFIG_PATH). */
  readonly configPath?: string | undefined;
}

const DEFAULT_SERVER = 'https://gitlab.com';

export const PIPELINE_SOURCES = [
  'push',
  'merge_request_event',
  'web',
  'schedule',
  'api',
  'trigger',
  'pipeline',
  'parent_pipeline',
  'chat',
  'external',
  'external_pull_request_event',
] as const;
export type PipelineSource = (typeof PIPELINE_SOURCES)[number];

/** GitLab's CI_COMMIT_REF_SLUG: lower case, anything but a-z0-9 becomes '-', at most 63, no '-' at the ends. */
export function refSlug(ref: string): string {
  return ref
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '-')
    .slice(0, 63)
    .replace(/^-+|-+$/g, '');
}

/**
 * The predefined variables GitLab sets for a pipeline (https://docs.gitlab.com/ci/variables/predefined_variables/):
 * CI_COMMIT_BRANCH only in branch pipelines (not for a tag or a merge request), CI_COMMIT_TAG only
 * for a tag, CI_MERGE_REQUEST_* only in merge request pipelines.
 */
export function predefinedVariables(trigger: PipelineTrigger): Map<string, string> {
  const ref = trigger.tag ?? trigger.branch ?? trigger.defaultBranch;
  const [namespace = '', name = trigger.projectPath] = splitProject(trigger.projectPath);
  const title = trigger.message.split('\n')[0] ?? '';
  const variables: [string, string][] = [
    ['CI', 'true'],
    ['GITLAB_CI', 'true'],
    ['CI_SERVER', 'yes'],
    ['CI_PIPELINE_SOURCE', trigger.source],
    ['CI_DEFAULT_BRANCH', trigger.defaultBranch],
    ['CI_COMMIT_REF_NAME', ref],
    ['CI_COMMIT_REF_SLUG', refSlug(ref)],
    ['CI_COMMIT_SHA', trigger.sha],
    ['CI_COMMIT_SHORT_SHA', trigger.sha.slice(0, 8)],
    ['CI_COMMIT_BEFORE_SHA', '0000000000000000000000000000000000000000'],
    ['CI_COMMIT_MESSAGE', trigger.message],
    ['CI_COMMIT_TITLE', title],
    ['CI_PROJECT_PATH', trigger.projectPath],
    ['CI_PROJECT_NAMESPACE', namespace],
    ['CI_PROJECT_NAME', name],
    ['CI_PROJECT_PATH_SLUG', refSlug(trigger.projectPath)],
    ['CI_PROJECT_DIR', trigger.projectDir],
    ['CI_PIPELINE_ID', '1'],
    ['CI_PIPELINE_IID', '1'],
    ['CI_COMMIT_REF_PROTECTED', String(isProtected(trigger))],
    ['CI_CONFIG_PATH', trigger.configPath ?? '.gitlab-ci.yml'],
    ...serverVariables(trigger),
  ];
  if (trigger.source === 'trigger') variables.push(['CI_PIPELINE_TRIGGERED', 'true']);
  if (trigger.tag !== undefined) variables.push(['CI_COMMIT_TAG', trigger.tag]);
  if (trigger.source === 'merge_request_event') {
    const target = trigger.targetBranch ?? trigger.defaultBranch;
    variables.push(
      ['CI_MERGE_REQUEST_ID', '1'],
      ['CI_MERGE_REQUEST_IID', '1'],
      ['CI_MERGE_REQUEST_SOURCE_BRANCH_NAME', trigger.branch ?? ''],
      ['CI_MERGE_REQUEST_TARGET_BRANCH_NAME', target],
      ['CI_MERGE_REQUEST_EVENT_TYPE', 'detached'],
      ['CI_MERGE_REQUEST_TITLE', title],
    );
  } else if (trigger.tag === undefined) {
    variables.push(['CI_COMMIT_BRANCH', ref]);
    if (trigger.openMergeRequests === true) variables.push(['CI_OPEN_MERGE_REQUESTS', `${trigger.projectPath}!1`]);
  }
  return new Map(variables);
}

/**
 * Whether the pipeline's ref is protected: as given, else the default branch (GitLab protects it
 * when a project is created: https://docs.gitlab.com/user/project/repository/branches/protected/).
 */
export function isProtected(trigger: PipelineTrigger): boolean {
  if (trigger.protected !== undefined) return trigger.protected;
  return trigger.tag === undefined && (trigger.branch ?? trigger.defaultBranch) === trigger.defaultBranch;
}

/** CI_SERVER_* and the URLs built from the server and the project. */
function serverVariables(trigger: PipelineTrigger): [string, string][] {
  let url: URL;
  try {
    url = new URL(trigger.serverUrl ?? DEFAULT_SERVER);
  } catch {
    url = new URL(DEFAULT_SERVER);
  }
  const protocol = url.protocol.replace(/:$/, '');
  const port = url.port === '' ? (protocol === 'https' ? '443' : '80') : url.port;
  const base = `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
  const [root = trigger.projectPath] = trigger.projectPath.split('/');
  return [
    ['CI_SERVER_NAME', 'GitLab'],
    ['CI_SERVER_URL', base],
    ['CI_SERVER_HOST', url.hostname],
    ['CI_SERVER_FQDN', url.host],
    ['CI_SERVER_PORT', port],
    ['CI_SERVER_PROTOCOL', protocol],
    ['CI_API_V4_URL', `${base}/api/v4`],
    ['CI_PROJECT_URL', `${base}/${trigger.projectPath}`],
    ['CI_PROJECT_ROOT_NAMESPACE', root],
  ];
}

function splitProject(path: string): [string, string] {
  const slash = path.lastIndexOf('/');
  return slash === -1 ? ['', path] : [path.slice(0, slash), path.slice(slash + 1)];
}

/**
 * Expands `$VAR`, `${VAR}` (and `$$` to a literal `$`) from `variables`, as the runner does for
 * variable values; unknown variables expand to nothing.
 */
export function expandVariables(text: string, variables: { get(name: string): string | undefined }): string {
  return text.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (match, braced, bare) =>
    match === '$$' ? '$' : (variables.get((braced ?? bare) as string) ?? ''),
  );
}
