import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CiSources, ExternalIncludes, ExternalRead } from '../core/pipeline/ci-sources.js';
import { type ComponentTarget, describeTarget, type ExternalTarget } from '../core/pipeline/include-entry.js';
import { includeDirPaths, projectDir } from '../core/pipeline/include-paths.js';
import { SHIPWAY_VERSION } from '../version.js';
import { isInside, realpath, repositorySources } from './repository-sources.js';

/** The include directory when none is given: in the repository, beside shipway's other local state. */
export const DEFAULT_INCLUDE_DIR = '.shipway/includes';

export interface IncludeDirectoryOptions {
  /** The repository root (messages name paths relative to it). */
  readonly root: string;
  /** The include directory, absolute or relative to the root. */
  readonly dir?: string | undefined;
  /** A component project other than `*\/shipway` whose `deliver` component is shipway's own. */
  readonly shipwayProject?: string | undefined;
  /** The commits the include lock pinned, by include (`$[[ component.sha ]]`). */
  readonly commits?: ReadonlyMap<string, string> | undefined;
  /** Whether shipway's own component may come from the package (not when fetching: then it is fetched). */
  readonly packagedComponent?: boolean | undefined;
  /** Told of each `local:` include, inside a project's or component's file, that the directory lacks. */
  readonly missingLocal?: ((project: string, ref: string, path: string) => void) | undefined;
}

/**
 * The include directory's lock, when there is one (zod and the lock reader load only then), as
 * the commits it pinned.
 */
export async function pinnedCommits(root: string, dir: string | undefined): Promise<Map<string, string>> {
  const full = resolve(root, dir ?? DEFAULT_INCLUDE_DIR);
  const commits = new Map<string, string>();
  if (!existsSync(join(full, 'includes.lock.json'))) return commits;
  const { readIncludeLock } = await import('./include-lock.js');
  for (const [key, entry] of Object.entries(readIncludeLock(full).entries))
    if (entry.commit !== undefined) commits.set(key, entry.commit);
  return commits;
}

/**
 * The includes GitLab would fetch (component, project, remote, template), read offline from the
 * include directory in the layout core/pipeline/include-paths.ts describes, never from outside it
 * (a symlink that leads out is refused). shipway's own `deliver` component, when the directory
 * does not hold it, is read from the installed package, so a project that includes it plans
 * without fetching anything.
 */
export function includeDirectory(options: IncludeDirectoryOptions): ExternalIncludes & { readonly dir: string } {
  const dir = resolve(options.root, options.dir ?? DEFAULT_INCLUDE_DIR);
  const read = (target: ExternalTarget): ExternalRead => {
    const paths = includeDirPaths(target);
    if (paths === undefined)
      return { kind: 'refused', message: 'its name is not a path that can be kept in the include directory' };
    const realDir = realpath(dir);
    for (const path of paths) {
      const full = join(dir, path);
      const real = realDir === undefined ? undefined : realpath(full);
      if (real === undefined || realDir === undefined) continue;
      if (!isInside(realDir, real))
        return { kind: 'refused', message: `${shown(options.root, full)} leads out of the include directory` };
      if (!statSync(real).isFile()) continue;
      return {
        kind: 'file',
        text: readFileSync(real, 'utf8'),
        file: shown(options.root, full),
        sources: projectSources(dir, target, options.missingLocal),
        component:
          target.kind === 'component'
            ? componentContext(target, options.commits?.get(describeTarget(target)))
            : undefined,
      };
    }
    if (
      options.packagedComponent !== false &&
      target.kind === 'component' &&
      isShipwayComponent(target, options.shipwayProject)
    )
      return shipwayComponent(target);
    return {
      kind: 'missing',
      hint: `put it at ${shown(options.root, join(dir, paths[0] ?? ''))} (docs/plan.md), or fetch and pin it with \`shipway includes fetch\` (GITLAB_TOKEN or --token)`,
    };
  };
  return { dir, read };
}

function shown(root: string, path: string): string {
  const rest = relative(root, path);
  return rest.startsWith('..') || isAbsolute(rest) ? path : rest;
}

/** A project's (or component project's) files at the ref, for the `local:` includes inside them. */
function projectSources(
  dir: string,
  target: ExternalTarget,
  missingLocal: IncludeDirectoryOptions['missingLocal'],
): CiSources | undefined {
  if (target.kind !== 'project' && target.kind !== 'component') return undefined;
  const ref = target.kind === 'project' ? (target.ref ?? 'HEAD') : target.version;
  const base = projectDir(target.project, ref);
  if (base === undefined) return undefined;
  const files = repositorySources(join(dir, base));
  if (missingLocal === undefined) return files;
  return {
    list: files.list,
    read(path) {
      const read = files.read(path);
      if (read.kind === 'missing') missingLocal(target.project, ref, path);
      return read;
    },
  };
}

/** `$[[ component.* ]]` (GitLab 18.6): the component's name, version, reference and, when pinned, commit. */
function componentContext(target: ComponentTarget, sha: string | undefined): Record<string, string> {
  return {
    name: target.name,
    version: target.version,
    reference: target.address,
    ...(sha === undefined ? {} : { sha }),
  };
}

/**
 * shipway's own component: `deliver` in a project whose last path segment is `shipway` (the
 * component project `shipway init` names), or in the project SHIPWAY_COMPONENT_PROJECT names.
 */
export function isShipwayComponent(target: ComponentTarget, project: string | undefined): boolean {
  if (target.name !== 'deliver') return false;
  return project === undefined || project === ''
    ? target.project.split('/').at(-1) === 'shipway'
    : target.project === project;
}

/** templates/deliver.yml of the installed package (dist/app → ../../templates), else of this repository. */
function packagedComponent(): string | undefined {
  for (const candidate of ['../../templates/deliver.yml', '../../../templates/deliver.yml']) {
    const path = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(path)) return path;
  }
  return undefined;
}

function shipwayComponent(target: ComponentTarget): ExternalRead {
  const path = packagedComponent();
  if (path === undefined)
    return { kind: 'missing', hint: 'the installed shipway package has no templates/deliver.yml' };
  const asked = target.version;
  const same = asked === SHIPWAY_VERSION || asked === '~latest' || SHIPWAY_VERSION.startsWith(`${asked}.`);
  return {
    kind: 'file',
    text: readFileSync(path, 'utf8'),
    file: `shipway ${SHIPWAY_VERSION}: templates/deliver.yml`,
    sources: undefined,
    component: componentContext(target, undefined),
    note: `include: component ${target.address}: shipway's own component, read from the installed shipway ${SHIPWAY_VERSION}${same ? '' : ` (the config asks for ${asked}; fetch that version with \`shipway includes fetch\` to plan it exactly)`}`,
  };
}
