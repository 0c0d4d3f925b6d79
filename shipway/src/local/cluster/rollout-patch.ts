import { failure } from './api-request.js';
import { type KubeObject, mergePatch, type ObjectStore } from './object-store.js';

type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function jsonType(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}

export interface RolloutPatch {
  readonly namespace: string;
  readonly name: string;
  readonly target: 'status' | 'main';
  readonly contentType: string;
  /** The parsed request body: any JSON value. */
  readonly body: unknown;
}

export interface PatchOutcome {
  readonly status: number;
  readonly body: unknown;
}

const conflict = (name: string) =>
  failure(
    409,
    'Conflict',
    `Operation cannot be fulfilled on rollouts.argoproj.io "${name}": the object has been modified; please apply your changes to the latest version and try again`,
  );

/**
 * A JSON merge patch (RFC 7386) of a stored Rollout or of its status subresource, with the
 * answers kube-apiserver gives: 415 for another patch type, 400 for a body that is not a JSON
 * object, 404, 409 for a stale metadata.resourceVersion, 422 when spec or status would stop
 * being an object. Nothing is stored unless the answer is 200.
 */
export function mergePatchRollout(store: ObjectStore, patch: RolloutPatch): PatchOutcome {
  const { name, body } = patch;
  if (!patch.contentType.startsWith('application/merge-patch+json')) {
    const message = `only application/merge-patch+json is supported, got ${patch.contentType}`;
    return { status: 415, body: failure(415, 'UnsupportedMediaType', message) };
  }
  // kube-apiserver decodes a merge patch into a map and answers 400 for any other JSON: null,
  // a string, a number, an array (k8s.io/apiserver/pkg/endpoints/handlers/patch.go, applyJSPatch:
  // "error decoding patch", and json-patch's ErrBadJSONPatch for null).
  if (!isObject(body)) {
    const message = `error decoding patch: a merge patch must be a JSON object, got ${jsonType(body)}`;
    return { status: 400, body: failure(400, 'BadRequest', message) };
  }
  const current = store.get('Rollout', patch.namespace, name);
  if (current === undefined)
    return { status: 404, body: failure(404, 'NotFound', `rollouts.argoproj.io "${name}" not found`) };
  const wanted = isObject(body.metadata) ? body.metadata.resourceVersion : undefined;
  if (wanted !== undefined && wanted !== current.metadata.resourceVersion) return { status: 409, body: conflict(name) };
  // The status subresource takes only status; the object itself takes spec and ignores status,
  // as with CRD subresources. Other top-level fields are dropped, as a structural CRD prunes
  // unknown fields; kind, apiVersion and metadata are never the patch's to change here.
  const field = patch.target === 'status' ? 'status' : 'spec';
  const merged = mergePatch(current, JSON.parse(JSON.stringify({ [field]: body[field] }))) as KubeObject;
  if (!isObject(merged[field]) && !(field === 'status' && merged.status === undefined)) {
    const type = jsonType(merged[field] ?? null);
    const message = `Rollout.argoproj.io "${name}" is invalid: ${field}: Invalid value: "${type}": ${field} in body must be of type object: "${type}"`;
    return { status: 422, body: failure(422, 'Invalid', message) };
  }
  if (field === 'spec' && JSON.stringify(merged.spec) !== JSON.stringify(current.spec))
    merged.metadata = { ...merged.metadata, generation: Number(current.metadata.generation ?? 1) + 1 };
  return { status: 200, body: store.put(merged) };
}
