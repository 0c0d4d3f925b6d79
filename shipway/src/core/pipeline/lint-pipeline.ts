import type { CiJob } from './ci-model.js';
import { type CiMap, type CiValue, isCiMap, type SourceLocation } from './ci-yaml.js';
import {
  ACTION_VARIABLE,
  declaredAction,
  declaredReuse,
  deploys,
  KNOWN_ACTIONS,
  REUSE_VARIABLE,
} from './job-intent.js';
import type { CiConfig } from './load-ci-config.js';
import type { PipelinePlan } from './plan-pipeline.js';
import { SCRIPT_KEYS, scriptLines } from './script-lines.js';

export interface LintEnvironment {
  readonly name: string;
  readonly branch: string;
  readonly overlay: string;
}

export interface LintFinding {
  readonly severity: 'error' | 'warning';
  readonly rule: string;
  readonly message: string;
  readonly location: SourceLocation;
  readonly job: string | null;
}

export interface LintInput {
  readonly config: CiConfig;
  readonly environments: readonly LintEnvironment[];
  /** The pipeline planned for each environment's branch, by environment name. */
  readonly plans: ReadonlyMap<string, PipelinePlan>;
}

/**
 * `shipway lint`: the planner's errors on each environment branch, and the delivery mistakes
 * the original pipeline made: a deploy job writing another environment's branch or overlay,
 * credentials in a remote URL, `curl | sh`, unpinned images and tools, deprecated only/except,
 * deploy jobs without `environment` or `resource_group`.
 */
export function lintPipeline(input: LintInput): LintFinding[] {
  const findings: LintFinding[] = [];
  const seen = new Set<string>();
  const add = (finding: LintFinding) => {
    const key = `${finding.rule}|${finding.location.file}:${finding.location.line}|${finding.message}`;
    if (seen.has(key)) return;
    seen.add(key);
    findings.push(finding);
  };
  // One finding per planner error, naming every branch it shows up on.
  const planned = new Map<string, { error: PipelinePlan['errors'][number]; environments: string[] }>();
  for (const [environment, plan] of input.plans)
    for (const error of plan.errors) {
      const key = `${error.location.file}:${error.location.line}|${error.message}`;
      const entry = planned.get(key) ?? { error, environments: [] };
      entry.environments.push(environment);
      planned.set(key, entry);
    }
  for (const { error, environments } of planned.values())
    add({
      severity: 'error',
      rule: 'config',
      message: `${error.message} (planning ${environments.join(', ')})`,
      location: error.location,
      job: null,
    });
  for (const job of input.config.jobs) for (const finding of lintJob(job, input)) add(finding);
  return findings.sort((a, b) => a.location.file.localeCompare(b.location.file) || a.location.line - b.location.line);
}

type Report = (severity: LintFinding['severity'], rule: string, message: string, key?: string) => void;

function lintJob(job: CiJob, input: LintInput): LintFinding[] {
  const findings: LintFinding[] = [];
  const d = job.definition;
  const finding: Report = (severity, rule, message, key) =>
    findings.push({
      severity,
      rule,
      message: `job ${job.name}: ${message}`,
      location: key === undefined ? job.location : job.keyLocation(key),
      job: job.name,
    });

  lintScripts(d, finding);
  for (const problem of imageProblems(d)) finding(problem.severity, 'unpinned-image', problem.message, 'image');
  if (d.only !== undefined || d.except !== undefined)
    finding(
      'warning',
      'deprecated-only-except',
      'uses only/except, which GitLab no longer develops; use rules',
      d.only !== undefined ? 'only' : 'except',
    );

  const writes = writtenEnvironments(d, input.environments);
  const target = targetEnvironment(job, input);
  // Declared data, not the job's name: what it writes, its environment:, SHIPWAY_ACTION, its shipway commands.
  const deploying = writes.size > 0 || deploys(job);
  if (target !== undefined) {
    for (const [written, how] of writes)
      if (written !== target)
        finding(
          'error',
          'wrong-environment',
          `deploys ${target} but writes ${written}: ${[...how].join(', ')}`,
          'script',
        );
  }
  if (deploying && d.environment === undefined)
    finding(
      'error',
      'deploy-without-environment',
      'deploys without environment: (no deployment history, no protected environment, no rollback in GitLab)',
    );
  lintDeclaredVariables(job, deploying, finding);
  if (deploying && d.resource_group === undefined)
    finding(
      'warning',
      'deploy-without-resource-group',
      'deploys without resource_group, so two pipelines can deploy the same environment at once',
    );
  return findings;
}

/**
 * The shipway variables a job declares. SHIPWAY_ACTION: one of the known actions (a typo,
 * `rolback`, would let `run --yes` approve a rollback). SHIPWAY_REUSE: `tree` or empty, and never
 * on a deploy job: its point is what it does to an environment, which a reused result would skip.
 */
function lintDeclaredVariables(job: CiJob, deploying: boolean, finding: Report): void {
  const action = declaredAction(job);
  if (action !== undefined && action !== '' && !KNOWN_ACTIONS.includes(action))
    finding(
      'warning',
      'unknown-action',
      `${ACTION_VARIABLE}: ${JSON.stringify(action)} means nothing to shipway (${KNOWN_ACTIONS.join(', ')} do), so the job counts by its script alone`,
      'variables',
    );
  const reuse = declaredReuse(job);
  if (reuse === undefined || reuse === '') return;
  if (reuse !== 'tree')
    finding(
      'warning',
      'unknown-reuse',
      `${REUSE_VARIABLE}: ${JSON.stringify(reuse)} means nothing to shipway run (only "tree" does), so the job always runs`,
      'variables',
    );
  else if (deploying)
    finding(
      'error',
      'reused-deploy',
      `deploys but declares ${REUSE_VARIABLE}: tree, so shipway run could skip the deployment by reusing an earlier result`,
      'variables',
    );
}

/** What the script lines do: credentials in a URL, a download piped into a shell, a tool at a moving version. */
function lintScripts(d: CiMap, finding: Report): void {
  for (const key of SCRIPT_KEYS) {
    for (const line of scriptLines(d, key)) {
      if (/\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@'"]+:[^\s@'"]+@/i.test(line))
        finding(
          'error',
          'credentials-in-url',
          'puts credentials in a URL (they end up in .git/config and logs); use a credential helper or CI_JOB_TOKEN',
          key,
        );
      if (/\b(curl|wget)\b[^|;&]*\|\s*(sudo\s+)?(ba|z|da|k)?sh\b/.test(line))
        finding(
          'error',
          'curl-pipe-shell',
          'pipes a download into a shell; install a pinned, checksummed tool instead',
          key,
        );
      if (/https?:\/\/\S*\/(master|main|latest|HEAD)\/|releases\/latest|@latest\b/.test(line))
        finding('error', 'unpinned-tool', `downloads a tool at a moving version: ${line.trim().slice(0, 80)}`, key);
    }
  }
}

/**
 * GitLab's hosted macOS runners take a VM image name in `image:` (macos-15-xcode-16, …), not a
 * container image, and it has no tag by design (https://docs.gitlab.com/ci/runners/hosted_runners/macos/).
 */
const HOSTED_MACOS_IMAGE = /^macos-\d+-xcode-\d+$/;

function imageReferences(job: CiMap): string[] {
  const name = (value: CiValue | undefined) =>
    typeof value === 'string' ? value : isCiMap(value) && typeof value.name === 'string' ? value.name : undefined;
  const images = [name(job.image)];
  if (Array.isArray(job.services)) images.push(...job.services.map(name));
  return images.filter(
    (image): image is string => image !== undefined && !image.includes('$') && !HOSTED_MACOS_IMAGE.test(image),
  );
}

/**
 * Tags that name a channel, not a release: whatever is pushed next replaces them, like `latest`.
 * Any other tag (node:24.11.1, ci-centos7-20210128, 3.19, a commit hash) is taken as a choice the
 * author made; a digest pins the image whatever its tag says.
 */
const MOVING_TAGS = new Set([
  'stable',
  'main',
  'master',
  'edge',
  'nightly',
  'develop',
  'dev',
  'head',
  'current',
  'lts',
  'rolling',
  // The latest release with a shell (kaniko's executor:debug, distroless :debug).
  'debug',
]);

interface ImageProblem {
  readonly severity: 'error' | 'warning';
  readonly message: string;
}

/** No tag or `:latest` (an error), or a channel name such as `stable` or `nightly` (a warning). */
function imageProblems(job: CiMap): ImageProblem[] {
  return imageReferences(job).flatMap((image): ImageProblem[] => {
    if (image.includes('@sha256:')) return [];
    const slash = image.lastIndexOf('/');
    const colon = image.lastIndexOf(':');
    const tag = colon > slash ? image.slice(colon + 1) : undefined;
    if (tag === undefined || tag === 'latest')
      return [
        {
          severity: 'error',
          message: `image ${image} is not pinned (${tag ?? 'no tag'}); use an exact version, ideally with a digest`,
        },
      ];
    if (MOVING_TAGS.has(tag.toLowerCase()))
      return [
        {
          severity: 'warning',
          message: `image ${image} uses the moving tag ${tag}; pin a release (and digest)`,
        },
      ];
    return [];
  });
}

/** The environments whose branch or overlay a job's scripts write, and how. */
function writtenEnvironments(job: CiMap, environments: readonly LintEnvironment[]): Map<string, Set<string>> {
  const writes = new Map<string, Set<string>>();
  const write = (env: string, how: string) => writes.set(env, (writes.get(env) ?? new Set()).add(how));
  const lines = SCRIPT_KEYS.flatMap((key) => scriptLines(job, key));
  for (const line of lines) {
    const branches = [
      ...line.matchAll(/\bgit\s+(?:checkout\s+-[bB]|switch\s+-[cC])\s+(\S+)/g),
      ...line.matchAll(/\bgit\s+push\b(?:\s+-\S+)*\s+\S+\s+(\S+)/g),
    ].map((match) => (match[1] ?? '').replace(/^.*:/, '').replace(/^refs\/heads\//, ''));
    for (const env of environments) {
      if (branches.includes(env.branch)) write(env.name, `branch ${env.branch}`);
      const overlay = env.overlay.replace(/\/+$/, '');
      if (new RegExp(`(^|[\\s/'"])${escapeRegExp(overlay)}(/|\\s|$|['"])`).test(line))
        write(env.name, `overlay ${overlay}`);
      if (new RegExp(`\\bshipway\\s+(promote|rollback)\\s+${escapeRegExp(env.name)}\\b`).test(line))
        write(env.name, `branch ${env.branch}`);
    }
  }
  return writes;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The environment a job is meant to deploy: its `environment:` name, else an environment named
 * in the job's name or stage (deploy-dev), else the one branch whose pipeline runs it.
 */
function targetEnvironment(job: CiJob, input: LintInput): string | undefined {
  const d = job.definition;
  const declared =
    typeof d.environment === 'string' ? d.environment : isCiMap(d.environment) ? d.environment.name : undefined;
  const names = input.environments.map((env) => env.name);
  if (typeof declared === 'string') {
    const match = names.find((name) => declared === name || declared.startsWith(`${name}/`));
    if (match !== undefined) return match;
  }
  for (const text of [job.name, typeof d.stage === 'string' ? d.stage : '']) {
    const tokens = text.toLowerCase().split(/[^a-z0-9]+/);
    const match = names.filter((name) => tokens.includes(name.toLowerCase()));
    if (match.length === 1) return match[0];
  }
  const runsOn = [...input.plans].filter(([, plan]) =>
    plan.stages.some((stage) => stage.jobs.some((planned) => planned.name === job.name)),
  );
  return runsOn.length === 1 ? runsOn[0]?.[0] : undefined;
}
