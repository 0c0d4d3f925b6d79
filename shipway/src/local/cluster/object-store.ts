import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import { writeAtomically } from '../../adapters/fs/write-atomically.js';

export type KubeObject = Record<string, unknown> & {
  metadata: Record<string, unknown> & { name: string; namespace: string };
};

export interface StoreEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly object: KubeObject;
}

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    typeof target === 'object' && target !== null && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

/**
 * The embedded cluster's objects (Rollouts and the ReplicaSet records of their revisions), with
 * resourceVersions, change events for watches, and an optional file it is saved to atomically,
 * so a restarted `cluster up` finds the state it left.
 */
export class ObjectStore extends EventEmitter {
  private readonly objects = new Map<string, KubeObject>();
  private version = 0;
  private saving: Promise<void> = Promise.resolve();

  constructor(private readonly file?: string) {
    super();
    this.setMaxListeners(0);
  }

  async load(): Promise<void> {
    if (this.file === undefined) return;
    try {
      const saved = JSON.parse(await readFile(this.file, 'utf8')) as { version: number; objects: KubeObject[] };
      this.version = saved.version;
      for (const object of saved.objects) this.objects.set(keyOf(object), object);
    } catch {
      // No saved state yet: an empty cluster.
    }
  }

  get resourceVersion(): string {
    return String(this.version);
  }

  get(kind: string, namespace: string, name: string): KubeObject | undefined {
    const object = this.objects.get(`${kind}/${namespace}/${name}`);
    return object === undefined ? undefined : structuredClone(object);
  }

  list(kind: string, namespace?: string): KubeObject[] {
    return [...this.objects.values()]
      .filter((object) => object.kind === kind && (namespace === undefined || object.metadata.namespace === namespace))
      .map((object) => structuredClone(object));
  }

  /** Stores the object with a new resourceVersion and tells watchers. */
  put(object: KubeObject): KubeObject {
    const key = keyOf(object);
    const existed = this.objects.has(key);
    this.version += 1;
    const stored: KubeObject = { ...object, metadata: { ...object.metadata, resourceVersion: String(this.version) } };
    this.objects.set(key, stored);
    this.emit('change', { type: existed ? 'MODIFIED' : 'ADDED', object: structuredClone(stored) } satisfies StoreEvent);
    this.save();
    return structuredClone(stored);
  }

  delete(kind: string, namespace: string, name: string): void {
    const key = `${kind}/${namespace}/${name}`;
    const object = this.objects.get(key);
    if (object === undefined) return;
    this.objects.delete(key);
    this.version += 1;
    this.emit('change', { type: 'DELETED', object } satisfies StoreEvent);
    this.save();
  }

  /** Resolves when everything stored so far is on disk. */
  flushed(): Promise<void> {
    return this.saving;
  }

  private save(): void {
    const file = this.file;
    if (file === undefined) return;
    const snapshot = JSON.stringify({ version: this.version, objects: [...this.objects.values()] });
    this.saving = this.saving.then(() => writeAtomically(file, snapshot)).catch(() => {});
  }
}

function keyOf(object: KubeObject): string {
  return `${String(object.kind)}/${object.metadata.namespace}/${object.metadata.name}`;
}

/** Checks that a value is a namespaced object (kind, metadata.name, metadata.namespace). */
export function toKubeObject(value: unknown): KubeObject {
  const record = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  const metadata =
    typeof record.metadata === 'object' && record.metadata !== null ? (record.metadata as Record<string, unknown>) : {};
  if (typeof record.kind !== 'string' || typeof metadata.name !== 'string' || typeof metadata.namespace !== 'string') {
    throw new Error('not a namespaced Kubernetes object (kind, metadata.name and metadata.namespace are required)');
  }
  return { ...record, metadata: { ...metadata, name: metadata.name, namespace: metadata.namespace } };
}
