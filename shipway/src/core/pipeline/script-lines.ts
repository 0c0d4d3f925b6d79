import type { CiMap, CiValue } from './ci-yaml.js';

export const SCRIPT_KEYS = ['before_script', 'script', 'after_script'] as const;

/** Every shell line a job runs, nested lists flattened as GitLab flattens them. */
export function scriptLines(job: CiMap, key: (typeof SCRIPT_KEYS)[number]): string[] {
  const flatten = (value: CiValue | undefined): string[] =>
    Array.isArray(value) ? value.flatMap(flatten) : typeof value === 'string' ? [value] : [];
  return flatten(job[key]);
}
