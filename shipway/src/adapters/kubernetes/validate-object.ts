import { readFileSync } from 'node:fs';
import * as models from '@kubernetes/client-node';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';

/**
 * Strict validation of rendered objects: core kinds against the API models of
 * @kubernetes/client-node (generated from the Kubernetes OpenAPI spec), Argo Rollouts kinds
 * against the openAPIV3Schema of the project's own CRDs. Unknown fields are errors, as with
 * `kubectl apply --validate=strict`.
 */
export interface ObjectProblem {
  readonly path: string;
  readonly message: string;
}

interface Attribute {
  readonly baseName: string;
  readonly type: string;
}

function attributesOf(type: string): readonly Attribute[] | undefined {
  const model: unknown = (models as Record<string, unknown>)[type];
  if (
    typeof model !== 'function' ||
    !('getAttributeTypeMap' in model) ||
    typeof model.getAttributeTypeMap !== 'function'
  ) {
    return undefined;
  }
  const map: unknown = model.getAttributeTypeMap();
  return Array.isArray(map) ? (map as Attribute[]) : undefined;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const PRIMITIVES: Record<string, { readonly what: string; readonly accepts: (value: unknown) => boolean }> = {
  string: { what: 'a string', accepts: (value) => typeof value === 'string' },
  Date: { what: 'a string', accepts: (value) => typeof value === 'string' },
  number: { what: 'a number', accepts: (value) => typeof value === 'number' },
  boolean: { what: 'true or false', accepts: (value) => typeof value === 'boolean' },
  IntOrString: {
    what: 'an integer or a string',
    accepts: (value) => typeof value === 'string' || typeof value === 'number',
  },
};

function mismatch(path: string, what: string, value: unknown): ObjectProblem {
  return { path, message: `must be ${what}, got ${JSON.stringify(value)}` };
}

function checkValue(value: unknown, type: string, path: string, problems: ObjectProblem[]): void {
  if (value === null || value === undefined || type === 'any' || type === 'object' || type === 'RuntimeRawExtension')
    return;
  const primitive = PRIMITIVES[type];
  if (primitive !== undefined) {
    if (!primitive.accepts(value)) problems.push(mismatch(path, primitive.what, value));
  } else if (type.startsWith('Array<')) {
    if (!Array.isArray(value)) problems.push(mismatch(path, 'a list', value));
    else
      value.forEach((item, index) => {
        checkValue(item, type.slice(6, -1), `${path}[${index}]`, problems);
      });
  } else if (type.startsWith('{ [key: string]: ')) {
    if (!isRecord(value)) problems.push(mismatch(path, 'a mapping', value));
    else
      for (const [key, item] of Object.entries(value)) checkValue(item, type.slice(17, -3), `${path}.${key}`, problems);
  } else {
    checkModel(value, type, path, problems);
  }
}

function checkModel(value: unknown, type: string, path: string, problems: ObjectProblem[]): void {
  const attributes = attributesOf(type);
  if (attributes === undefined) return;
  if (!isRecord(value)) {
    problems.push(mismatch(path, 'a mapping', value));
    return;
  }
  for (const [key, item] of Object.entries(value)) {
    const attribute = attributes.find((candidate) => candidate.baseName === key);
    if (attribute === undefined)
      problems.push({ path: `${path}.${key}`, message: `unknown field ${JSON.stringify(key)}` });
    else checkValue(item, attribute.type, `${path}.${key}`, problems);
  }
}

/** Adds additionalProperties:false wherever the CRD lists properties and does not preserve unknown fields. */
function strictify(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(strictify);
  if (!isRecord(schema)) return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    out[key] =
      key === 'properties' && isRecord(value)
        ? Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, strictify(sub)]))
        : strictify(value);
  }
  if (
    isRecord(out.properties) &&
    out.additionalProperties === undefined &&
    out['x-kubernetes-preserve-unknown-fields'] !== true
  ) {
    out.additionalProperties = false;
  }
  return out;
}

const CRD_FILES: Record<string, string> = {
  Rollout: 'rollout-crd.yaml',
  AnalysisTemplate: 'analysis-template-crd.yaml',
};
const crdValidators = new Map<string, ValidateFunction>();
const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });

function crdValidator(kind: string): ValidateFunction | undefined {
  const file = CRD_FILES[kind];
  if (file === undefined) return undefined;
  const cached = crdValidators.get(kind);
  if (cached !== undefined) return cached;
  const crd: unknown = parse(readFileSync(new URL(`../../../schemas/argo-rollouts/${file}`, import.meta.url), 'utf8'));
  const versions = isRecord(crd) && isRecord(crd.spec) && Array.isArray(crd.spec.versions) ? crd.spec.versions : [];
  const version: unknown = versions.find((entry: unknown) => isRecord(entry) && entry.name === 'v1alpha1');
  const schema = isRecord(version) && isRecord(version.schema) ? version.schema.openAPIV3Schema : undefined;
  const validator = ajv.compile(strictify(schema) as object);
  crdValidators.set(kind, validator);
  return validator;
}

function modelName(apiVersion: string, kind: string): string {
  const version = apiVersion.split('/').pop() ?? '';
  return `${version.charAt(0).toUpperCase()}${version.slice(1)}${kind}`;
}

/** Validates one object; an empty list means valid. Kinds with no model or schema are reported. */
export function validateObject(object: unknown): ObjectProblem[] {
  if (!isRecord(object) || typeof object.apiVersion !== 'string' || typeof object.kind !== 'string') {
    return [{ path: '', message: 'not a Kubernetes object (apiVersion and kind are required)' }];
  }
  const { apiVersion, kind } = object;
  if (apiVersion.startsWith('argoproj.io/')) {
    const validate = crdValidator(kind);
    if (validate === undefined) return [{ path: '', message: `no schema for ${apiVersion} ${kind}` }];
    if (validate(object)) return [];
    return (validate.errors ?? []).map((error) => ({
      path: error.instancePath
        .replace(/^\//, '')
        .replace(/\/(\d+)(?=\/|$)/g, '[$1]')
        .replace(/\//g, '.'),
      message:
        error.keyword === 'additionalProperties'
          ? `unknown field ${JSON.stringify(error.params.additionalProperty)}`
          : (error.message ?? error.keyword),
    }));
  }
  const type = modelName(apiVersion, kind);
  if (attributesOf(type) === undefined) return [{ path: '', message: `no model for ${apiVersion} ${kind}` }];
  const problems: ObjectProblem[] = [];
  checkValue(object, type, '', problems);
  return problems.map((problem) => ({ ...problem, path: problem.path.replace(/^\./, '') }));
}
