/**
 * Repository names as the distribution spec allows them (spec.md, "Pulling manifests"):
 * path components of lower-case alphanumerics joined by `.`, `_`, `__` or runs of `-`.
 */
const NAME = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

export function isValidRepositoryName(name: string): boolean {
  return name.length <= 255 && NAME.test(name);
}

export function isValidTagName(tag: string): boolean {
  return TAG.test(tag);
}
