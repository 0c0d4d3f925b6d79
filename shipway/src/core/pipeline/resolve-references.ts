import { type CiMap, type CiProblem, type CiValue, isCiMap, ReferenceTag } from './ci-yaml.js';
import { SizeBudget } from './yaml-limits.js';

/** GitLab's Ci::Config::Yaml::Tags::Resolver nests !reference at most this deep. */
const MAX_REFERENCE_DEPTH = 10;

/**
 * Replaces every `!reference` with what it names; a list inside a list is spliced in. What
 * resolving reads and copies is counted against GitLab's YAML size (yaml-limits.ts): lists of
 * references spliced into lists, ten levels deep, would otherwise multiply without bound.
 */
export function resolveReferences(root: CiMap, problems: CiProblem[]): CiMap {
  const budget = new SizeBudget();
  // Each target is resolved once and shared, as an alias is: only splicing a list copies.
  const resolved = new Map<string, CiValue>();
  let outermost: ReferenceTag | undefined;
  let reported = false;
  const exhausted = (): null => {
    if (!reported && outermost !== undefined)
      problems.push({
        message: `!reference [${outermost.path.join(', ')}]: the references bring in more than GitLab's YAML size limit`,
        location: outermost.location,
      });
    reported = true;
    return null;
  };
  const resolve = (node: CiValue, level: number): CiValue => {
    if (level === 0 && node instanceof ReferenceTag) outermost = node;
    if (level > 0 && !budget.take(node)) return exhausted();
    if (node instanceof ReferenceTag) {
      if (level >= MAX_REFERENCE_DEPTH) {
        problems.push({ message: `!reference [${node.path.join(', ')}] nests too deep`, location: node.location });
        return null;
      }
      const key = node.path.join('\u0000');
      const known = resolved.get(key);
      if (known !== undefined) return known;
      let target: CiValue | undefined = root;
      for (const part of node.path) target = isCiMap(target) ? target[part] : undefined;
      if (target === undefined) {
        problems.push({ message: `!reference [${node.path.join(', ')}] points to nothing`, location: node.location });
        return null;
      }
      const value = resolve(target, level + 1);
      resolved.set(key, value);
      return value;
    }
    // Subtrees without a reference are returned as they are: no copy of a large config.
    if (Array.isArray(node)) {
      let out: CiValue[] | undefined;
      for (const [index, item] of node.entries()) {
        const next = resolve(item, level);
        if (next === item && out === undefined) continue;
        out ??= node.slice(0, index);
        // Splicing copies: counted too, so ten levels of lists cost no more than the budget.
        if (item instanceof ReferenceTag && Array.isArray(next)) {
          if (!budget.spend(next.length)) return exhausted();
          for (const element of next) out.push(element);
        } else out.push(next);
      }
      return out ?? node;
    }
    if (isCiMap(node)) {
      let out: CiMap | undefined;
      for (const [key, item] of Object.entries(node)) {
        const next = resolve(item, level);
        if (next === item) continue;
        out ??= { ...node };
        out[key] = next;
      }
      return out ?? node;
    }
    return node;
  };
  // Each top-level key once: a reference to it reuses what its own walk produced, and back.
  const out: CiMap = {};
  for (const [key, value] of Object.entries(root)) {
    const known = resolved.get(key);
    out[key] = known !== undefined ? known : resolve(value, 0);
    resolved.set(key, out[key]);
  }
  return out;
}
