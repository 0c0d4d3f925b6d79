/**
 * The production dependency closure of one workspace, read from an npm v2/v3 lockfile's
 * `packages` map: which installed package directories a runtime image needs. Resolution follows
 * Node's: a dependency of the package at P is found at P/node_modules/<name>, else in each
 * enclosing node_modules up to the root.
 */
export interface LockPackage {
  readonly version?: string;
  readonly link?: boolean;
  readonly dev?: boolean;
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly optionalDependencies?: Readonly<Record<string, string>>;
  readonly peerDependencies?: Readonly<Record<string, string>>;
  readonly peerDependenciesMeta?: Readonly<Record<string, { readonly optional?: boolean }>>;
}

export interface Lockfile {
  readonly lockfileVersion?: number;
  readonly packages?: Readonly<Record<string, LockPackage>>;
}

export type ClosureResult =
  | { readonly ok: true; readonly paths: readonly string[] }
  | { readonly ok: false; readonly missing: string };

/** The directory whose node_modules holds `path`: `a/node_modules/b` → `a`; a top-level entry → the root (''). */
function parentOf(path: string): string | undefined {
  if (path === '') return undefined;
  const at = path.lastIndexOf('/node_modules/');
  return at === -1 ? '' : path.slice(0, at);
}

function resolve(packages: Readonly<Record<string, LockPackage>>, from: string, name: string): string | undefined {
  for (let base: string | undefined = from; base !== undefined; base = parentOf(base)) {
    const candidate = base === '' ? `node_modules/${name}` : `${base}/node_modules/${name}`;
    if (packages[candidate] !== undefined) return candidate;
  }
  return undefined;
}

export function productionClosure(lock: Lockfile, workspace: string): ClosureResult {
  const packages = lock.packages ?? {};
  const root = packages[workspace];
  if (root === undefined) return { ok: false, missing: workspace };
  const seen = new Set<string>();
  const queue: [string, LockPackage][] = [[workspace, root]];
  while (queue.length > 0) {
    const [path, entry] = queue.shift() as [string, LockPackage];
    const wanted: [string, boolean][] = [
      ...Object.keys(entry.dependencies ?? {}).map((name): [string, boolean] => [name, false]),
      ...Object.keys(entry.optionalDependencies ?? {}).map((name): [string, boolean] => [name, true]),
      ...Object.keys(entry.peerDependencies ?? {}).map((name): [string, boolean] => [
        name,
        entry.peerDependenciesMeta?.[name]?.optional === true,
      ]),
    ];
    for (const [name, optional] of wanted) {
      const found = resolve(packages, path, name);
      if (found === undefined) {
        if (optional) continue;
        return { ok: false, missing: `${name} (needed by ${path || 'the root'})` };
      }
      const target = packages[found];
      if (seen.has(found) || target === undefined || target.link === true) continue;
      seen.add(found);
      queue.push([found, target]);
    }
  }
  return { ok: true, paths: [...seen].sort() };
}
