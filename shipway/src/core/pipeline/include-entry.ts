import type { Variables } from './ci-expression.js';
import { type CiMap, type CiValue, isCiMap } from './ci-yaml.js';
import { expandVariables } from './predefined-variables.js';

/**
 * What one `include:` entry names (https://docs.gitlab.com/ci/yaml/#include), after GitLab's
 * Mapper: a string is `local`, or `remote` when it is a URL; a map names exactly one of
 * `local`, `project` (with `file`, one or a list, and an optional `ref`), `remote` (with an
 * optional `integrity`), `template`, `component` or (only for child pipelines) `artifact` with
 * `job`. Variables in the values are expanded first (Mapper::VariablesExpander).
 */
export type IncludeTarget =
  | { readonly kind: 'local'; readonly path: string }
  | ComponentTarget
  | { readonly kind: 'project'; readonly project: string; readonly ref: string | undefined; readonly file: string }
  | { readonly kind: 'remote'; readonly url: string; readonly integrity: string | undefined }
  | { readonly kind: 'template'; readonly name: string }
  | { readonly kind: 'artifact'; readonly artifact: string; readonly job: string };

/** `<fqdn>/<project path>/<name>@<version>`: the project is everything between the host and the last `/`. */
export interface ComponentTarget {
  readonly kind: 'component';
  readonly address: string;
  readonly host: string;
  readonly project: string;
  readonly name: string;
  readonly version: string;
}

export type ExternalTarget = Exclude<IncludeTarget, { kind: 'local' } | { kind: 'artifact' }>;

export interface IncludeEntry {
  readonly targets: readonly IncludeTarget[];
  readonly inputs: CiMap | undefined;
}

const SUBKEYS = ['local', 'project', 'remote', 'template', 'component', 'artifact'] as const;
const EXTRA_KEYS: Readonly<Record<(typeof SUBKEYS)[number], readonly string[]>> = {
  local: [],
  project: ['file', 'ref'],
  remote: ['integrity'],
  template: [],
  component: [],
  artifact: ['job'],
};

/** Who an include names, for messages: `component gitlab.com/x/y/z@1.0`, `local ci/a.yml`. */
export function describeTarget(target: IncludeTarget): string {
  switch (target.kind) {
    case 'local':
      return `local ${target.path}`;
    case 'component':
      return `component ${target.address}`;
    case 'project':
      return `project ${target.project}${target.ref === undefined ? '' : `@${target.ref}`} file ${target.file}`;
    case 'remote':
      return `remote ${target.url}`;
    case 'template':
      return `template ${target.name}`;
    case 'artifact':
      return `artifact ${target.artifact} of job ${target.job}`;
  }
}

/** The entry's targets, or the message GitLab's Mapper would give for it. */
export function readIncludeEntry(entry: CiValue, variables: Variables): IncludeEntry | string {
  const expand = (value: string) => (value.includes('$') ? expandVariables(value, variables) : value);
  if (typeof entry === 'string') {
    const location = expand(entry);
    const kind = /^https?:\/\//.test(location) ? 'remote' : 'local';
    return {
      targets: [kind === 'remote' ? { kind, url: location, integrity: undefined } : { kind, path: location }],
      inputs: undefined,
    };
  }
  if (!isCiMap(entry)) return 'each include must be a file path or a map';
  const present = SUBKEYS.filter((key) => key in entry);
  if (present.length !== 1)
    return present.length === 0
      ? `\`${JSON.stringify(entry)}\` does not have a valid subkey for include. Valid subkeys are: \`${SUBKEYS.join('`, `')}\``
      : `each include must use only one of: \`${SUBKEYS.join('`, `')}\``;
  const kind = present[0] ?? 'local';
  const allowed = new Set<string>([kind, ...EXTRA_KEYS[kind], 'rules', 'inputs']);
  const unknown = Object.keys(entry).filter((key) => !allowed.has(key));
  if (unknown.length > 0) return `include:${kind} config contains unknown keys: ${unknown.join(', ')}`;
  const inputs = entry.inputs;
  if (inputs !== undefined && inputs !== null && !isCiMap(inputs)) return 'include:inputs must be a map of inputs';
  const text = (key: string): string | undefined => {
    const value = entry[key];
    return typeof value === 'string' ? expand(value) : undefined;
  };
  const main = text(kind);
  if (main === undefined) return `include:${kind} must be a string`;
  const targets = targetsOf(kind, main, entry, text, expand);
  return typeof targets === 'string' ? targets : { targets, inputs: isCiMap(inputs) ? inputs : undefined };
}

function targetsOf(
  kind: (typeof SUBKEYS)[number],
  main: string,
  entry: CiMap,
  text: (key: string) => string | undefined,
  expand: (value: string) => string,
): IncludeTarget[] | string {
  switch (kind) {
    case 'local':
      return [{ kind, path: main }];
    case 'template':
      return [{ kind, name: main }];
    case 'remote':
      if (!/^https?:\/\//.test(main)) return `include:remote ${main} is not an http(s) URL`;
      return [{ kind, url: main, integrity: text('integrity') }];
    case 'component': {
      const component = parseComponent(main);
      return component ?? `include:component ${main} is not <fqdn>/<project path>/<component name>@<version>`;
    }
    case 'artifact': {
      const job = text('job');
      return job === undefined ? 'include:artifact needs job:' : [{ kind, artifact: main, job }];
    }
    case 'project': {
      const files = entry.file;
      const list = typeof files === 'string' ? [files] : Array.isArray(files) ? files : undefined;
      if (list === undefined || list.length === 0 || !list.every((file) => typeof file === 'string'))
        return 'include:project needs file: (a path or a list of paths)';
      const ref = entry.ref === undefined || entry.ref === null ? undefined : expand(String(entry.ref));
      return list.map((file) => ({ kind, project: main, ref, file: expand(String(file)) }));
    }
  }
}

/** A component address split as Gitlab::Ci::Components::InstancePath splits it, or undefined. */
export function parseComponent(address: string): [ComponentTarget] | undefined {
  const at = address.indexOf('@');
  if (at < 0) return undefined;
  const path = address.slice(0, at);
  const version = address.slice(at + 1);
  const firstSlash = path.indexOf('/');
  const lastSlash = path.lastIndexOf('/');
  if (firstSlash <= 0 || lastSlash === firstSlash || version === '') return undefined;
  const project = path.slice(firstSlash + 1, lastSlash);
  const name = path.slice(lastSlash + 1);
  if (project === '' || name === '' || project.startsWith('/')) return undefined;
  return [{ kind: 'component', address, host: path.slice(0, firstSlash), project, name, version }];
}
