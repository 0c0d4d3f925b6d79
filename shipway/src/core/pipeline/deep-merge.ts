import { type CiMap, isCiMap } from './ci-yaml.js';

/**
 * GitLab's merge for `include` and `extends`: maps merge key by key, recursively; anything else
 * (lists included: `script`, `rules`, `needs`) is replaced by the later value.
 */
export function deepMerge(base: CiMap, over: CiMap): CiMap {
  const out: CiMap = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isCiMap(current) && isCiMap(value) ? deepMerge(current, value) : value;
  }
  return out;
}
