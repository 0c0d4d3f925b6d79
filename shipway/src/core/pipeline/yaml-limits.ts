/**
 * GitLab's limits on what one pipeline config may be, as application settings with these
 * defaults: max_yaml_size_bytes 2 MB (since 17.3; 1 MB before), max_yaml_depth 100,
 * ci_max_includes 150. Gitlab::Config::Loader::Yaml refuses a file larger than the first
 * ("The provided YAML is too big") and a loaded file whose Gitlab::Utils::DeepSize passes the
 * size or the depth ("The parsed YAML is too big").
 */
export const MAX_YAML_SIZE_BYTES = 2 * 1024 * 1024;
export const MAX_YAML_DEPTH = 100;
export const MAX_INCLUDES = 150;

export type SizeVerdict = 'too big' | 'too deep' | undefined;

/**
 * The size of parsed YAML walked as a tree, as DeepSize walks what Psych loaded. Psych, like
 * js-yaml, loads an alias as the very object its anchor made, so loading is cheap and the cost
 * comes later, from whatever walks, copies or prints the value as a tree. Walked this way an
 * alias counts again each time it is used, so an alias bomb (billion laughs) is caught after
 * at most the limit's worth of steps, whatever it would expand to. Every value counts 1 and a
 * string or a key also its length: about the value written out without anchors, and less than
 * the Ruby object sizes DeepSize adds up (ObjectSpace.memsize_of, 40 bytes or more per object),
 * so a file GitLab accepts is not refused here. One budget can be spent across several walks.
 */
export class SizeBudget {
  private remaining: number;

  constructor(limit = MAX_YAML_SIZE_BYTES) {
    this.remaining = limit;
  }

  /** Counts one value without looking inside it; false once the budget is spent. */
  take(value: unknown): boolean {
    return this.spend(typeof value === 'string' ? value.length + 1 : 1);
  }

  /** Counts `units` of work (values copied, say); false once the budget is spent. */
  spend(units: number): boolean {
    this.remaining -= units;
    return this.remaining >= 0;
  }

  /** Walks `value`, found `depth` levels down; the first limit it passes, else undefined. */
  walk(value: unknown, depth = 0): SizeVerdict {
    if (typeof value === 'string') return this.spend(value.length + 1) ? undefined : 'too big';
    if (!this.spend(1)) return 'too big';
    if (typeof value !== 'object' || value === null) return undefined;
    if (depth >= MAX_YAML_DEPTH) return 'too deep';
    // Indexed and for-in loops: this runs once per config file, cold, over every value in it.
    if (Array.isArray(value)) {
      for (let index = 0; index < value.length; index += 1) {
        const verdict = this.walk(value[index], depth + 1);
        if (verdict !== undefined) return verdict;
      }
      return undefined;
    }
    for (const key in value) {
      if (!this.spend(key.length + 1)) return 'too big';
      const verdict = this.walk(Reflect.get(value, key), depth + 1);
      if (verdict !== undefined) return verdict;
    }
    return undefined;
  }
}
