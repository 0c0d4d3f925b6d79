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
  const oversized = oversizedReference(root);
  if (oversized !== undefined) problems.push(tooMuch(oversized));
  const resolver = new ReferenceResolver(root, problems, dangling, oversized !== undefined);
  // Each top-level key once: a reference to it reuses what its own walk produced, and back.
  const out: CiMap = {};
  for (const [key, value] of Object.entries(root)) out[key] = resolver.resolveTop(key, value);
  return out;
}

function tooMuch(reference: ReferenceTag): CiProblem {
  return {
    message: `!reference [${reference.path.join(', ')}]: the references bring in more than ${MAX_REFERENCED_SIZE / 1024 / 1024} MiB`,
    location: reference.location,
  };
}

/** One resolution of a config's references: what was resolved, and what is left of the budget. */
class ReferenceResolver {
  private readonly budget: SizeBudget;
  // Each target is resolved once and shared, as an alias is: only splicing a list copies.
  private readonly resolved = new Map<string, CiValue>();
  /** The top-level key being resolved, and the outermost reference being followed in it. */
  private top = '';
  private outermost: ReferenceTag | undefined;
  private reported: boolean;

  constructor(
    private readonly root: CiMap,
    private readonly problems: CiProblem[],
    private readonly dangling: ((topKey: string, reference: string) => void) | undefined,
    /** Reported already: no reference is resolved then (no budget). */
    oversized: boolean,
  ) {
    this.budget = new SizeBudget(oversized ? 0 : MAX_REFERENCED_SIZE);
    this.reported = oversized;
  }

  resolveTop(key: string, value: CiValue): CiValue {
    this.top = key;
    const known = this.resolved.get(key);
    const out = known !== undefined ? known : this.resolve(value, 0);
    this.resolved.set(key, out);
    return out;
  }

  private exhausted(): null {
    if (!this.reported && this.outermost !== undefined) this.problems.push(tooMuch(this.outermost));
    this.reported = true;
    return null;
  }

  private resolve(node: CiValue, level: number): CiValue {
    if (level === 0 && node instanceof ReferenceTag) this.outermost = node;
    if (level > 0 && !this.budget.take(node)) return this.exhausted();
    if (node instanceof ReferenceTag) return this.follow(node, level);
    // Subtrees without a reference are returned as they are: no copy of a large config.
    if (Array.isArray(node)) return this.resolveList(node, level);
    if (isCiMap(node)) {
      let out: CiMap | undefined;
      for (const [key, item] of Object.entries(node)) {
        const next = this.resolve(item, level);
        if (next === item) continue;
        out ??= { ...node };
        out[key] = next;
      }
      return out ?? node;
    }
    return node;
  }

  private follow(node: ReferenceTag, level: number): CiValue {
    if (level >= MAX_REFERENCE_DEPTH) {
      this.problems.push({ message: `!reference [${node.path.join(', ')}] nests too deep`, location: node.location });
      return null;
    }
    const key = node.path.join('\u0000');
    const known = this.resolved.get(key);
    if (known !== undefined) return known;
    const target = targetOf(this.root, node);
    if (target === undefined) {
      // With an include that cannot be read, the target may be in it: the caller reports that once.
      if (this.dangling !== undefined) this.dangling(this.top, `[${node.path.join(', ')}]`);
      else
        this.problems.push({
          message: `!reference [${node.path.join(', ')}] points to nothing`,
          location: node.location,
        });
      return null;
    }
    const value = this.resolve(target, level + 1);
    this.resolved.set(key, value);
    return value;
  }

  private resolveList(node: CiValue[], level: number): CiValue {
    let out: CiValue[] | undefined;
    for (const [index, item] of node.entries()) {
      const next = this.resolve(item, level);
      if (next === item && out === undefined) continue;
      out ??= node.slice(0, index);
      // Splicing copies: counted too, so ten levels of lists cost no more than the budget.
      if (item instanceof ReferenceTag && Array.isArray(next)) {
        if (!this.budget.spend(next.length)) return this.exhausted();
        for (const element of next) out.push(element);
      } else out.push(next);
    }
    return out ?? node;
  }
}
