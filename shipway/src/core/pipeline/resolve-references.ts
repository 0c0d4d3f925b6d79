import { type CiMap, type CiProblem, type CiValue, isCiMap, ReferenceTag } from './ci-yaml.js';
import { MAX_YAML_SIZE_BYTES, SizeBudget } from './yaml-limits.js';

/** GitLab's Ci::Config::Yaml::Tags::Resolver nests !reference at most this deep. */
const MAX_REFERENCE_DEPTH = 10;

/**
 * How much the references of one config may bring in, written out (as SizeBudget counts). GitLab
 * has no limit of its own here beyond the files' sizes; four files' worth is far more than real
 * configs take (3,000 jobs each taking a 500-byte block bring 1.5 MB) and keeps a bomb of lists
 * spliced into lists, ten levels deep, from being built at all.
 */
const MAX_REFERENCED_SIZE = 4 * MAX_YAML_SIZE_BYTES;

function targetOf(root: CiMap, tag: ReferenceTag): CiValue | undefined {
  let target: CiValue | undefined = root;
  for (const part of tag.path) target = isCiMap(target) ? target[part] : undefined;
  return target;
}

/**
 * The reference at which what the references bring in passes MAX_REFERENCED_SIZE, else undefined.
 * Counted without copying anything, each target's size once, so the cost is one walk of the config.
 */
function oversizedReference(root: CiMap): ReferenceTag | undefined {
  const sizes = new Map<string, number>();
  const open = new Set<string>();
  const sizeOf = (node: CiValue, level: number): number => {
    if (node instanceof ReferenceTag) return targetSize(node, level);
    let size = typeof node === 'string' ? node.length + 1 : 1;
    if (Array.isArray(node))
      for (const item of node) {
        size += sizeOf(item, level);
        if (size > MAX_REFERENCED_SIZE) break;
      }
    else if (isCiMap(node))
      for (const key in node) {
        size += key.length + 1 + sizeOf(node[key] ?? null, level);
        if (size > MAX_REFERENCED_SIZE) break;
      }
    return size;
  };
  const targetSize = (tag: ReferenceTag, level: number): number => {
    const key = tag.path.join('\u0000');
    const known = sizes.get(key);
    if (known !== undefined) return known;
    const target = targetOf(root, tag);
    // Too deep, circular or dangling: the resolver reports it and brings in nothing.
    if (level >= MAX_REFERENCE_DEPTH || open.has(key) || target === undefined) return 0;
    open.add(key);
    const size = sizeOf(target, level + 1);
    open.delete(key);
    sizes.set(key, size);
    return size;
  };
  let brought = 0;
  const visit = (node: CiValue): ReferenceTag | undefined => {
    if (node instanceof ReferenceTag) {
      brought += targetSize(node, 0);
      return brought > MAX_REFERENCED_SIZE ? node : undefined;
    }
    const items = Array.isArray(node) ? node : isCiMap(node) ? Object.values(node) : [];
    for (const item of items) {
      const found = visit(item);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  return visit(root);
}

/**
 * Replaces every `!reference` with what it names; a list inside a list is spliced in. What the
 * references bring in is measured first (oversizedReference): past the limit, the first reference
 * that passes it is the error and no reference is resolved. Resolving counts what it reads and
 * copies against the same limit, so nothing it builds can outgrow it.
 */
export function resolveReferences(
  root: CiMap,
  problems: CiProblem[],
  dangling?: (topKey: string, reference: string) => void,
): CiMap {
  let top = '';
  const oversized = oversizedReference(root);
  if (oversized !== undefined)
    problems.push({
      message: `!reference [${oversized.path.join(', ')}]: the references bring in more than ${MAX_REFERENCED_SIZE / 1024 / 1024} MiB`,
      location: oversized.location,
    });
  const budget = new SizeBudget(oversized === undefined ? MAX_REFERENCED_SIZE : 0);
  // Each target is resolved once and shared, as an alias is: only splicing a list copies.
  const resolved = new Map<string, CiValue>();
  let outermost: ReferenceTag | undefined;
  let reported = oversized !== undefined;
  const exhausted = (): null => {
    if (!reported && outermost !== undefined)
      problems.push({
        message: `!reference [${outermost.path.join(', ')}]: the references bring in more than ${MAX_REFERENCED_SIZE / 1024 / 1024} MiB`,
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
      const target = targetOf(root, node);
      if (target === undefined) {
        // With an include that cannot be read, the target may be in it: the caller reports that once.
        if (dangling !== undefined) dangling(top, `[${node.path.join(', ')}]`);
        else
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
    top = key;
    const known = resolved.get(key);
    out[key] = known !== undefined ? known : resolve(value, 0);
    resolved.set(key, out[key]);
  }
  return out;
}
