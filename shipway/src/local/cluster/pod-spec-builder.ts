import { type ContainerEnv, containerEnv, type EnvSources } from '../../core/pod/container-env.js';
import { podFieldValue } from '../../core/pod/pod-fields.js';
import { type PodTemplate, podTemplateSchema } from '../../core/pod/pod-template.js';
import { replicaSetSchema } from '../../core/rollout/replica-set-object.js';
import type { ObjectStore } from './object-store.js';
import type { PodSpec, Probe } from './pod-runtime.js';

type ProbeSpec = PodTemplate['spec']['containers'][number]['readinessProbe'];

function probeOf(probe: ProbeSpec): Probe | undefined {
  if (probe?.httpGet?.path === undefined) return undefined;
  return {
    path: probe.httpGet.path,
    periodMs: (probe.periodSeconds ?? 10) * 1000,
    failureThreshold: probe.failureThreshold ?? 3,
  };
}

const stringMap = (value: unknown): Record<string, string> =>
  Object.fromEntries(
    Object.entries(typeof value === 'object' && value !== null ? value : {}).filter(
      (entry): entry is [string, string] => typeof entry[1] === 'string',
    ),
  );

/**
 * The namespace's ConfigMaps and Secrets as the kubelet reads them: a ConfigMap's `data`; a
 * Secret's `data` decoded from base64, with `stringData` over it (the API server merges
 * stringData into data on write; kustomize's secretGenerator writes data).
 */
export function storeSources(store: ObjectStore, namespace: string): Omit<EnvSources, 'field'> {
  return {
    configMap: (name) => {
      const object = store.get('ConfigMap', namespace, name);
      return object === undefined ? undefined : stringMap(object.data);
    },
    secret: (name) => {
      const object = store.get('Secret', namespace, name);
      if (object === undefined) return undefined;
      const decoded = Object.fromEntries(
        Object.entries(stringMap(object.data)).map(([key, value]) => [key, Buffer.from(value, 'base64').toString()]),
      );
      return { ...decoded, ...stringMap(object.stringData) };
    },
  };
}

/**
 * What the pod runtime needs to start a pod of one revision, from its ReplicaSet's template
 * (parsed here, at the store boundary). The environment is built at each start, from the
 * ConfigMaps and Secrets stored then, as the kubelet builds it for every container start.
 */
export function podSpecFor(
  store: ObjectStore,
  owner: { readonly namespace: string; readonly name: string },
  revision: string,
): PodSpec | undefined {
  const record = replicaSetSchema.safeParse(store.get('ReplicaSet', owner.namespace, `${owner.name}-${revision}`));
  const parsed = podTemplateSchema.safeParse(record.success ? record.data.spec.template : undefined);
  if (!parsed.success) return undefined;
  const template = parsed.data;
  const container = template.spec.containers[0];
  if (container === undefined) return undefined;
  const labels = { ...(template.metadata?.labels ?? {}), 'rollouts-pod-template-hash': revision };
  const sources = storeSources(store, owner.namespace);
  const environment = (pod: { name: string; uid: string }): ContainerEnv =>
    containerEnv(container, owner.namespace, {
      ...sources,
      field: (path) =>
        podFieldValue(
          {
            name: pod.name,
            uid: pod.uid,
            namespace: owner.namespace,
            labels,
            annotations: template.metadata?.annotations ?? {},
            serviceAccountName: template.spec.serviceAccountName ?? 'default',
          },
          path,
        ),
    });
  return {
    owner: `${owner.namespace}/${owner.name}`,
    revision,
    image: container.image,
    container,
    environment,
    readiness: probeOf(container.readinessProbe),
    liveness: probeOf(container.livenessProbe),
    terminationGraceMs: (template.spec.terminationGracePeriodSeconds ?? 30) * 1000,
  };
}
