import { createHash } from 'node:crypto';

/**
 * A component version as written (https://docs.gitlab.com/ci/components/#component-versions):
 * `~latest` or a partial semantic version (`1`, `1.2`) selects the latest matching release of
 * the catalog; anything else (a full version tag, a branch, a commit SHA) is a ref.
 */
export function isReleaseSelector(version: string): boolean {
  return version === '~latest' || /^\d+(\.\d+)?$/.test(version);
}

interface SemVer {
  readonly parts: readonly [number, number, number];
  readonly prerelease: boolean;
}

function parseSemVer(tag: string): SemVer | undefined {
  const match = /^v?(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/.exec(tag);
  if (match === null) return undefined;
  return { parts: [Number(match[1]), Number(match[2]), Number(match[3])], prerelease: match[4] !== undefined };
}

/**
 * The release `selector` picks from the release tags: the highest semantic version, never a
 * pre-release, within `1` or `1.2` when given (`1` selects 1.2.0 from 1.0.0, 1.1.1, 1.2.0, 2.0.0).
 */
export function selectRelease(tags: readonly string[], selector: string): string | undefined {
  const prefix = selector === '~latest' ? [] : selector.split('.').map(Number);
  let best: { tag: string; version: SemVer } | undefined;
  for (const tag of tags) {
    const version = parseSemVer(tag);
    if (version === undefined || version.prerelease) continue;
    if (prefix.some((part, index) => version.parts[index] !== part)) continue;
    if (best === undefined || compare(version, best.version) > 0) best = { tag, version };
  }
  return best?.tag;
}

function compare(a: SemVer, b: SemVer): number {
  for (let index = 0; index < 3; index += 1) {
    const difference = (a.parts[index] ?? 0) - (b.parts[index] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * `include:remote:integrity` (https://docs.gitlab.com/ci/yaml/#includeintegrity): a Subresource
 * Integrity value, `sha256-` and the base64 SHA-256 of the file; GitLab supports only SHA-256.
 * Undefined when it holds, else why not.
 */
export function integrityProblem(bytes: Uint8Array, integrity: string): string | undefined {
  const match = /^sha256-([A-Za-z0-9+/]+={0,2})$/.exec(integrity.trim());
  if (match === null) return `integrity ${integrity} is not sha256-<base64> (GitLab supports only SHA-256)`;
  const actual = createHash('sha256').update(bytes).digest('base64');
  return actual === match[1]
    ? undefined
    : `integrity check failed: the file's SHA-256 is sha256-${actual}, not ${integrity}`;
}
