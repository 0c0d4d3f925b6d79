import { type CiMap, type CiValue, isCiMap } from './ci-yaml.js';

/**
 * GitLab's merge for `include` and `extends`: maps merge key by key, recursively; anything else
 * (lists included: `script`, `rules`, `needs`) is replaced by the later value.
 */
export function deepMerge(base: CiMap, over: CiMap, skip?: string): CiMap {
  const out: CiMap = { ...base };
  for (const key in over) {
    if (key === skip) continue;
    const value = over[key] as CiValue;
    const current = out[key];
    out[key] = isCiMap(current) && isCiMap(value) ? deepMerge(current, value) : value;
  }
  return out;
}
