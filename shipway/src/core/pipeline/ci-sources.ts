import type { ExternalTarget } from './include-entry.js';

/** A repository file as CiSources reads it. */
export type CiSourceFile =
  | { readonly kind: 'file'; readonly text: string }
  | { readonly kind: 'missing' }
  /** A symlink whose target is outside the repository: never read. */
  | { readonly kind: 'outside' };

/** The repository files a config is read from (paths relative to the repository root). */
export interface CiSources {
  read(path: string): CiSourceFile;
  list(): readonly string[];
}

/**
 * A path as GitLab reads a local file (Ci::Config::External::File::Local): from the repository at
 * the pipeline's commit, leading slashes removed, so `/ci/a.yml` is `ci/a.yml`. A path with a
 * `..` segment names no file of the commit's tree: undefined, for the caller to refuse.
 */
export function repositoryPath(path: string): string | undefined {
  const relative = path.replace(/^(?:\.?\/+)+/, '');
  if (relative.split('/').includes('..') || relative.includes('\0')) return undefined;
  return relative;
}

/** A file of an include that is not in the repository, as an ExternalIncludes source holds it. */
export interface ExternalFile {
  readonly kind: 'file';
  readonly text: string;
  /** Where the text is, for locations in errors (a path under the include directory, say). */
  readonly file: string;
  /**
   * What a `local:` include inside it reads from: the project (at the ref) it came from, for
   * `project:` and `component:` includes; undefined for `remote:` and `template:`, whose local
   * includes are the including project's, as on GitLab (External::File::Base#expand_context_attrs).
   */
  readonly sources: CiSources | undefined;
  /** For a component: `$[[ component.name ]]` and friends. */
  readonly component?: Readonly<Record<string, string>> | undefined;
  /** Something the user should know about where the file came from (printed, not an error). */
  readonly note?: string | undefined;
}

export type ExternalRead =
  | ExternalFile
  /** Not available offline: `hint` says how to provide it. */
  | { readonly kind: 'missing'; readonly hint: string }
  /** Refused (a hostile path, a failed integrity check): `message` says why. */
  | { readonly kind: 'refused'; readonly message: string };

/** Reads `include: component/project/remote/template` from wherever they are kept offline. */
export interface ExternalIncludes {
  read(target: ExternalTarget): ExternalRead;
}
