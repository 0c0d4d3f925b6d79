import { createHash } from 'node:crypto';
import type { CiValue } from '../pipeline/ci-yaml.js';

/**
 * What a job's result depends on when it declares `SHIPWAY_REUSE: tree`: the commit's tree, the
 * job's own definition and the values of its variables. GitLab runs every job of every pipeline;
 * `shipway run` may hand a later pipeline the result of an earlier job with the same key (as Nx or
 * Turborepo replay a task whose inputs did not change), because the environment branches of one
 * release carry the same tree and would otherwise build and test it three times.
 */
export interface ResultInputs {
  /** A digest of the commit's files (`git ls-tree -r`), less the image pins promotions write (app/reuse-job.ts). */
  readonly tree: string;
  readonly job: string;
  readonly definition: CiValue;
  /** The job's variables as its shell gets them (file, rules, dotenv of its needs, outside). */
  readonly variables: ReadonlyMap<string, string>;
  /** Names set by the job's own variables, dotenv reports or outside variables: kept even if named CI_…. */
  readonly declared: ReadonlySet<string>;
  /** The pipeline's checkout: a variable naming it (CI_PROJECT_DIR/.npm) is the same in every pipeline. */
  readonly workspace: string;
  /** The runtime the job's shell starts from: shipway's and Node's versions, the platform, PATH and the like. */
  readonly runtime: string;
  /** A digest of the artifacts the job receives from the jobs it needs (their files' contents and modes). */
  readonly artifacts: string;
}

/**
 * GitLab's predefined variables differ between pipelines of one commit (the ref, the pipeline and
 * job ids, the manual flag) and are left out: a job that reads them to decide what it does must
 * not declare SHIPWAY_REUSE. Variables whose value only mentions them (IMAGE: app:$CI_COMMIT_SHA)
 * are kept, expanded, and so is a variable of that name that the project or the job sets itself.
 */
const PER_PIPELINE = /^(CI|GITLAB)_|^(CHAT_CHANNEL|CHAT_INPUT|CHAT_USER_ID|TRIGGER_PAYLOAD)$/;

/** A canonical JSON text: object keys sorted, so the same definition always hashes the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonical(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The key a reusable result is stored under: a SHA-256 of everything in ResultInputs. */
export function resultKey(inputs: ResultInputs): string {
  const variables = [...inputs.variables]
    .filter(([name]) => !PER_PIPELINE.test(name) || inputs.declared.has(name))
    .map(([name, value]): [string, string] => [name, value.split(inputs.workspace).join('$CI_PROJECT_DIR')])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const text = canonical({
    version: 1,
    tree: inputs.tree,
    job: inputs.job,
    definition: inputs.definition,
    variables,
    runtime: inputs.runtime,
    artifacts: inputs.artifacts,
  });
  return createHash('sha256').update(text).digest('hex');
}
