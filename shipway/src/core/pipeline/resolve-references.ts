import { type CiMap, type CiProblem, type CiValue, isCiMap, ReferenceTag } from './ci-yaml.js';
import { SizeBudget } from './yaml-limits.js';

/** GitLab's Ci::Config::Yaml::Tags::Resolver nests !reference at most this deep. */
const MAX_REFERENCE_DEPTH = 10;

/**
 * Replaces every `!reference` with what it names; a list inside a list is spliced in. What the
 * references bring in is counted against GitLab's YAML size (yaml-limits.ts), as if written out:
 * references inside referenced lists, ten levels deep, would otherwise multiply without bound.
 */
export function resolveReferences(root: CiMap, problems: CiProblem[]): CiMap {
  const budget = new SizeBudget();
  let outermost: ReferenceTag | undefined;
  let reported = false;
  const resolve = (node: CiValue, level: number): CiValue => {
    if (level === 0 && node instanceof ReferenceTag) outermost = node;
    if (level > 0 && !budget.take(node)) {
      if (!reported && outermost !== undefined)
        problems.push({
          message: `!reference [${outermost.path.join(', ')}]: the references bring in more than GitLab's YAML size limit`,
          location: outermost.location,
        });
      reported = true;
      return null;
    }
    if (node instanceof ReferenceTag) {
      if (level >= MAX_REFERENCE_DEPTH) {
        problems.push({ message: `!reference [${node.path.join(', ')}] nests too deep`, location: node.location });
        return null;
      }
      let target: CiValue | undefined = root;
      for (const part of node.path) target = isCiMap(target) ? target[part] : undefined;
      if (target === undefined) {
        problems.push({ message: `!reference [${node.path.join(', ')}] points to nothing`, location: node.location });
        return null;
      }
      return resolve(target, level + 1);
    }
    // Subtrees without a reference are returned as they are: no copy of a large config.
    if (Array.isArray(node)) {
      let out: CiValue[] | undefined;
      for (const [index, item] of node.entries()) {
        const next = resolve(item, level);
        if (next === item && out === undefined) continue;
        out ??= node.slice(0, index);
        if (item instanceof ReferenceTag && Array.isArray(next)) out.push(...next);
        else out.push(next);
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
  const out = resolve(root, 0);
  return isCiMap(out) ? out : {};
}
