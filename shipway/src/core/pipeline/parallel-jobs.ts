import type { CiJob, ParallelInstance } from './ci-model.js';
import { type CiMap, type CiProblem, type CiValue, isCiMap } from './ci-yaml.js';

/** Entry::Product::Parallel::PARALLEL_LIMIT: at most this many instances per job. */
const PARALLEL_LIMIT = 200;
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * `parallel` (https://docs.gitlab.com/ci/yaml/#parallel), as GitLab's Config::Normalizer applies
 * it: `parallel: N` makes `job 1/N` … `job N/N` (NumberStrategy); `parallel: matrix:` makes one
 * job per combination of each entry's values, named `job: [v1, v2]` (MatrixStrategy), with the
 * values as job variables. `needs` and `dependencies` that name the job as written name every
 * instance; `needs: parallel: matrix:` selects some; `$[[ matrix.NAME ]]` in an instance's needs
 * is that instance's value.
 */
export function expandParallel(jobs: readonly CiJob[], problems: CiProblem[]): CiJob[] {
  const instances = new Map<string, InstanceSpec[]>();
  for (const job of jobs) {
    const value = job.definition.parallel;
    if (value === undefined || value === null) continue;
    const specs = instancesOf(job.name, value, (message) =>
      problems.push({ message: `job ${job.name}: parallel ${message}`, location: job.keyLocation('parallel') }),
    );
    if (specs !== undefined) instances.set(job.name, specs);
  }
  if (instances.size === 0) return [...jobs];
  const out: CiJob[] = [];
  for (const job of jobs) {
    const specs = instances.get(job.name);
    if (specs === undefined) {
      out.push(withNeeds(job, job.name, undefined, instances));
      continue;
    }
    for (const spec of specs) {
      const parallel: ParallelInstance = { job: job.name, ...spec };
      out.push({ ...withNeeds(job, spec.name, spec.variables, instances), parallel });
    }
  }
  return out;
}

interface InstanceSpec {
  readonly name: string;
  readonly index: number;
  readonly total: number;
  readonly variables: ReadonlyMap<string, string> | undefined;
}

function instancesOf(name: string, value: CiValue, problem: (message: string) => void): InstanceSpec[] | undefined {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 1 || value > PARALLEL_LIMIT) {
      problem(`must be a whole number from 1 to ${PARALLEL_LIMIT}`);
      return undefined;
    }
    return Array.from({ length: value }, (_, index) => ({
      name: `${name} ${index + 1}/${value}`,
      index: index + 1,
      total: value,
      variables: undefined,
    }));
  }
  if (!isCiMap(value)) {
    problem('should be an integer or a hash');
    return undefined;
  }
  const unknown = Object.keys(value).filter((key) => key !== 'matrix');
  if (unknown.length > 0 || value.matrix === undefined) {
    problem(
      unknown.length > 0
        ? `config contains unknown keys: ${unknown.join(', ')}`
        : 'config missing required keys: matrix',
    );
    return undefined;
  }
  const combinations = matrixCombinations(value.matrix, problem);
  if (combinations === undefined) return undefined;
  if (combinations.length > PARALLEL_LIMIT) {
    problem(`matrix generates too many jobs (maximum is ${PARALLEL_LIMIT})`);
    return undefined;
  }
  return combinations.map((variables, index) => ({
    name: matrixName(name, variables),
    index: index + 1,
    total: combinations.length,
    variables,
  }));
}

/** MatrixStrategy.expand: each entry's values multiplied out, entries one after another. */
export function matrixCombinations(
  matrix: CiValue,
  problem: (message: string) => void,
): Map<string, string>[] | undefined {
  if (!Array.isArray(matrix) || matrix.length === 0 || !matrix.every(isCiMap)) {
    problem('matrix should be a list of maps of variables');
    return undefined;
  }
  const out: Map<string, string>[] = [];
  for (const entry of matrix) {
    if (!isCiMap(entry)) continue;
    let rows: [string, string][][] = [[]];
    for (const [variable, values] of Object.entries(entry)) {
      const list = Array.isArray(values) ? values : [values];
      if (!VARIABLE_NAME.test(variable) || list.length === 0 || list.some((item) => typeof item === 'object'))
        return void problem(`matrix variable ${variable} must be a string, a number or a list of them`);
      rows = rows.flatMap((row) => list.map((item): [string, string][] => [...row, [variable, String(item)]]));
      if (rows.length > PARALLEL_LIMIT) {
        problem(`matrix generates too many jobs (maximum is ${PARALLEL_LIMIT})`);
        return undefined;
      }
    }
    if (Object.keys(entry).length === 0) return void problem('matrix entries need at least one variable');
    for (const row of rows) out.push(new Map(row));
  }
  return out;
}

/** MatrixStrategy#name: `job: [v1, v2]`, the values in the order the entry lists its variables. */
export function matrixName(job: string, variables: ReadonlyMap<string, string>): string {
  return `${job}: [${[...variables.values()].join(', ')}]`;
}

/** The job with its `needs` and `dependencies` naming instances; the same object when nothing changes. */
function withNeeds(
  job: CiJob,
  name: string,
  variables: ReadonlyMap<string, string> | undefined,
  instances: ReadonlyMap<string, readonly InstanceSpec[]>,
): CiJob {
  const d = job.definition;
  const needs = Array.isArray(d.needs) ? expandNeeds(d.needs, variables, instances) : d.needs;
  const dependencies = Array.isArray(d.dependencies) ? expandDependencies(d.dependencies, instances) : d.dependencies;
  const changed = needs !== d.needs || dependencies !== d.dependencies;
  if (name === job.name && !changed) return job;
  const definition: CiMap = changed ? { ...d, needs: needs ?? null, dependencies: dependencies ?? null } : d;
  if (d.needs === undefined) delete definition.needs;
  if (d.dependencies === undefined) delete definition.dependencies;
  return {
    name,
    definition,
    get location() {
      return job.location;
    },
    keyLocation: (key) => job.keyLocation(key),
  };
}

/** Dependencies on a parallel job name every instance; the same list when none does. */
function expandDependencies(list: CiValue[], instances: ReadonlyMap<string, readonly InstanceSpec[]>): CiValue[] {
  if (!list.some((entry) => typeof entry === 'string' && instances.has(entry))) return list;
  return list.flatMap((entry): CiValue[] =>
    typeof entry === 'string' ? (instances.get(entry)?.map((spec) => spec.name) ?? [entry]) : [entry],
  );
}

function expandNeeds(
  needs: CiValue[],
  variables: ReadonlyMap<string, string> | undefined,
  instances: ReadonlyMap<string, readonly InstanceSpec[]>,
): CiValue[] {
  let changed = false;
  const out = needs.flatMap((need): CiValue[] => {
    const expanded = expandNeed(variables === undefined ? need : interpolateMatrix(need, variables), instances);
    if (expanded.length !== 1 || expanded[0] !== need) changed = true;
    return expanded;
  });
  return changed ? out : needs;
}

function expandNeed(need: CiValue, instances: ReadonlyMap<string, readonly InstanceSpec[]>): CiValue[] {
  const name = typeof need === 'string' ? need : isCiMap(need) && typeof need.job === 'string' ? need.job : undefined;
  const all = name === undefined ? undefined : instances.get(name);
  if (all === undefined || name === undefined) return [need];
  if (typeof need === 'string') return all.map((spec) => spec.name);
  if (!isCiMap(need)) return [need];
  const { parallel, ...rest } = need;
  if (!isCiMap(parallel)) return all.map((spec) => ({ ...rest, job: spec.name }));
  const selected = matrixCombinations(parallel.matrix ?? null, () => {}) ?? [];
  return selected.map((variables) => ({ ...rest, job: matrixName(name, variables) }));
}

/** `$[[ matrix.NAME ]]` in a need (GitLab 18.6): this instance's value of NAME. */
function interpolateMatrix(need: CiValue, variables: ReadonlyMap<string, string>): CiValue {
  if (typeof need === 'string')
    return need.includes('$[[')
      ? need.replace(
          /\$\[\[\s*matrix\.([A-Za-z_][A-Za-z0-9_]*)\s*\]\]/g,
          (block, key: string) => variables.get(key) ?? block,
        )
      : need;
  if (Array.isArray(need)) {
    const items = need.map((item) => interpolateMatrix(item, variables));
    return items.some((item, index) => item !== need[index]) ? items : need;
  }
  if (!isCiMap(need)) return need;
  let out: CiMap | undefined;
  for (const [key, item] of Object.entries(need)) {
    const next = interpolateMatrix(item, variables);
    if (next === item) continue;
    out ??= { ...need };
    out[key] = next;
  }
  return out ?? need;
}
