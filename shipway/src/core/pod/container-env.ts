import { expandVars } from './expand-vars.js';
import type { Container } from './pod-template.js';

/** ConfigMaps and Secrets of the pod's namespace, as the kubelet's managers return them. */
export interface EnvSources {
  /** A ConfigMap's `data` (binaryData never reaches the environment). */
  configMap(name: string): Readonly<Record<string, string>> | undefined;
  /** A Secret's decoded `data`. */
  secret(name: string): Readonly<Record<string, string>> | undefined;
  /** A downward-API field's value (fieldRef.fieldPath), already checked by the spec audit. */
  field(path: string): string;
}

/** Why a container cannot be configured: the kubelet's CreateContainerConfigError. */
export interface ContainerConfigError {
  readonly reason: 'CreateContainerConfigError';
  readonly message: string;
}

export type ContainerEnv =
  | { readonly ok: true; readonly env: Map<string, string>; readonly skipped: readonly string[] }
  | { readonly ok: false; readonly error: ContainerConfigError };

const fail = (message: string): ContainerEnv => ({
  ok: false,
  error: { reason: 'CreateContainerConfigError', message },
});

/**
 * Kubernetes 1.32's environment variable names: any printable ASCII but `=`
 * (RelaxedEnvironmentVariableValidation, on by default since 1.32). envFrom keys that are not
 * are skipped, as the kubelet skips them (with an InvalidEnvironmentVariableNames event).
 */
function validName(name: string): boolean {
  return name.length > 0 && /^[\x20-\x3c\x3e-\x7e]+$/.test(name);
}

type Lookup = (kind: 'ConfigMap' | 'Secret', name: string) => Readonly<Record<string, string>> | undefined;

function applyEnvFrom(
  container: Container,
  lookup: Lookup,
  env: Map<string, string>,
  skipped: string[],
): string | undefined {
  for (const source of container.envFrom ?? []) {
    const ref = source.configMapRef ?? source.secretRef;
    if (ref === undefined) continue;
    const kind = source.configMapRef !== undefined ? 'ConfigMap' : 'Secret';
    const data = lookup(kind, ref.name);
    if (data === undefined) {
      if (ref.optional === true) continue;
      return `${kind === 'ConfigMap' ? 'configmap' : 'secret'} "${ref.name}" not found`;
    }
    for (const [key, value] of Object.entries(data)) {
      const name = `${source.prefix ?? ''}${key}`;
      if (validName(name)) env.set(name, value);
      else skipped.push(name);
    }
  }
  return undefined;
}

/**
 * The container's environment exactly as the kubelet builds it (pkg/kubelet/kubelet_pods.go,
 * makeEnvironmentVariables): every `envFrom` source in order (a later source wins, a prefix is
 * prepended, a missing source is an error unless `optional`), then every `env` entry in order,
 * overriding what came before: a `value` with `$(VAR)` expanded against what is defined so far,
 * or a `valueFrom` (fieldRef, configMapKeyRef, secretKeyRef; a missing object or key is an
 * error unless `optional`, and an optional miss leaves the variable as it was). Errors name
 * objects and keys, never values.
 */
export function containerEnv(container: Container, namespace: string, sources: EnvSources): ContainerEnv {
  const env = new Map<string, string>();
  const skipped: string[] = [];
  const lookup: Lookup = (kind, name) => (kind === 'ConfigMap' ? sources.configMap(name) : sources.secret(name));
  const missing = applyEnvFrom(container, lookup, env, skipped);
  if (missing !== undefined) return fail(missing);
  for (const entry of container.env ?? []) {
    const from = entry.valueFrom;
    if (entry.value !== undefined && entry.value !== '') {
      env.set(
        entry.name,
        expandVars(entry.value, (name) => env.get(name)),
      );
      continue;
    }
    if (from?.fieldRef !== undefined) {
      env.set(entry.name, sources.field(from.fieldRef.fieldPath));
      continue;
    }
    const ref = from?.configMapKeyRef ?? from?.secretKeyRef;
    if (ref === undefined) {
      env.set(entry.name, '');
      continue;
    }
    const kind = from?.configMapKeyRef !== undefined ? 'ConfigMap' : 'Secret';
    const data = lookup(kind, ref.name);
    if (data === undefined) {
      if (ref.optional === true) continue;
      return fail(`${kind === 'ConfigMap' ? 'configmap' : 'secret'} "${ref.name}" not found`);
    }
    const value = data[ref.key];
    if (value === undefined) {
      if (ref.optional === true) continue;
      return fail(`couldn't find key ${ref.key} in ${kind} ${namespace}/${ref.name}`);
    }
    env.set(entry.name, value);
  }
  return { ok: true, env, skipped };
}
