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
