/**
 * What an image says about where it came from, decided so that the same build inputs give the
 * same image digest on any machine and at any commit: the content tag (a hash of build.inputs)
 * then names one image, and a rebuild of unchanged inputs is byte for byte the published one.
 */
export interface Provenance {
  /** Seconds since the epoch: the app layer's entries and the config's `created`. */
  readonly time: number;
  /** The production node_modules layer's entries: they change only with package-lock.json. */
  readonly dependenciesTime: number;
  /** A base made from this machine (`--base host`): nothing in the repository made it. */
  readonly baseTime: number;
  /** org.opencontainers.image.revision, or undefined for no label. */
  readonly revision: string | undefined;
  /** org.opencontainers.image.source, or undefined for no label. */
  readonly source: string | undefined;
}

export interface ProvenanceInputs {
  /** SOURCE_DATE_EPOCH (reproducible-builds.org/specs/source-date-epoch/). */
  readonly sourceDateEpoch: string | undefined;
  /** The last commit that changed any of build.inputs, if Git knows one. */
  readonly inputsCommit: { readonly sha: string; readonly time: number } | undefined;
  /** The last commit that changed package-lock.json, if Git knows one. */
  readonly lockfileCommit: { readonly time: number } | undefined;
  /** image.source from shipway.yaml (already validated: http(s), no credentials). */
  readonly configuredSource: string | undefined;
  /** GitLab's CI_PROJECT_URL. */
  readonly projectUrl: string | undefined;
}

/**
 * The time is SOURCE_DATE_EPOCH when given, else the commit time of the last commit that changed
 * an input (so `git commit --allow-empty`, or a commit elsewhere in the repository, changes
 * nothing), else 0. Without SOURCE_DATE_EPOCH the lower layers take the time of what they are made
 * of, so that a code change gives new bytes to the app layer only: the dependency layer the
 * lockfile's last commit, a host base 0. The revision is that same commit, never HEAD or CI_COMMIT_SHA, which differ
 * at every commit and would give unchanged inputs a new digest. The source is image.source, else
 * CI_PROJECT_URL; never the local remote, which can be a path on this machine or carry a token.
 */
export function decideProvenance(inputs: ProvenanceInputs): Provenance {
  const fixed = sourceDateEpoch(inputs.sourceDateEpoch);
  const time = fixed ?? inputs.inputsCommit?.time ?? 0;
  return {
    time,
    dependenciesTime: fixed ?? inputs.lockfileCommit?.time ?? time,
    baseTime: fixed ?? 0,
    revision: inputs.inputsCommit?.sha,
    source: publicUrl(inputs.configuredSource) ?? publicUrl(inputs.projectUrl),
  };
}

/** SOURCE_DATE_EPOCH as seconds, if it is a plain non-negative integer as the spec requires. */
export function sourceDateEpoch(text: string | undefined): number | undefined {
  return text !== undefined && /^\d{1,12}$/.test(text) ? Number(text) : undefined;
}

/** An http(s) URL without user, password, query or fragment, or undefined if `text` is not one. */
export function publicUrl(text: string | undefined): string | undefined {
  if (text === undefined || text === '') return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  url.username = '';
  url.password = '';
  url.search = '';
  url.hash = '';
  return url.toString().replace(/\/$/, '');
}
