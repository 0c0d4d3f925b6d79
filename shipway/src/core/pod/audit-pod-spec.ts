import { fieldPathProblem } from './pod-fields.js';

type Json = Record<string, unknown>;
type Check = (value: unknown, path: string) => string | undefined;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const ok: Check = () => undefined;
const only =
  (allowed: readonly unknown[], why: string): Check =>
  (value, path) =>
    allowed.includes(value) ? undefined : `${path}: ${why}`;
const refuse =
  (why: string): Check =>
  (_value, path) =>
    `${path}: ${why}`;

/** A probe runs as an HTTP GET on the pod's port; other handlers would test something else. */
const probe: Check = (value, path) => {
  if (!isObject(value)) return undefined;
  for (const handler of ['exec', 'tcpSocket', 'grpc'])
    if (value[handler] !== undefined) return `${path}.${handler}: only httpGet probes are supported`;
  const get = value.httpGet;
  if (!isObject(get)) return `${path}: only httpGet probes are supported`;
  if (get.host !== undefined) return `${path}.httpGet.host: probes go to the pod itself`;
  if (get.httpHeaders !== undefined) return `${path}.httpGet.httpHeaders: not supported`;
  if (get.scheme !== undefined && get.scheme !== 'HTTP') return `${path}.httpGet.scheme: only HTTP is supported`;
  return undefined;
};

const CONTAINER_SECURITY: Record<string, Check> = {
  // Restrictions the embedded cluster does not enforce: a program that runs under them runs the
  // same without them (README: "accepted, not enforced").
  allowPrivilegeEscalation: ok,
  readOnlyRootFilesystem: ok,
  runAsNonRoot: ok,
  runAsUser: ok,
  runAsGroup: ok,
  seccompProfile: ok,
  seLinuxOptions: ok,
  appArmorProfile: ok,
  privileged: only([false], 'privileged containers are not supported'),
  capabilities: (value, path) =>
    isObject(value) && value.add !== undefined ? `${path}.add: capabilities cannot be granted` : undefined,
};

const POD_SECURITY: Record<string, Check> = {
  runAsNonRoot: ok,
  runAsUser: ok,
  runAsGroup: ok,
  fsGroup: ok,
  fsGroupChangePolicy: ok,
  supplementalGroups: ok,
  seccompProfile: ok,
  seLinuxOptions: ok,
  appArmorProfile: ok,
};

const nested =
  (fields: Record<string, Check>): Check =>
  (value, path) =>
    isObject(value) ? auditFields(value, fields, path) : undefined;

const env: Check = (value, path) => {
  for (const [index, entry] of (Array.isArray(value) ? value : []).entries()) {
    const from = isObject(entry) ? entry.valueFrom : undefined;
    if (!isObject(from)) continue;
    const where = `${path}[${index}].valueFrom`;
    if (from.resourceFieldRef !== undefined) return `${where}.resourceFieldRef: resources are not applied locally`;
    const fieldRef = from.fieldRef;
    if (isObject(fieldRef)) {
      const problem = fieldPathProblem(String(fieldRef.fieldPath));
      if (problem !== undefined) return `${where}.fieldRef.fieldPath: ${problem}`;
    }
  }
  return undefined;
};

const CONTAINER: Record<string, Check> = {
  name: ok,
  image: ok,
  command: ok,
  args: ok,
  workingDir: ok,
  env,
  envFrom: ok,
  readinessProbe: probe,
  livenessProbe: probe,
  ports: (value, path) =>
    Array.isArray(value) && value.length > 1
      ? `${path}: a pod gets one loopback port ($PORT); got ${value.length}`
      : undefined,
  // Accepted and ignored: they do not change what runs on one machine.
  resources: ok,
  resizePolicy: ok,
  imagePullPolicy: ok,
  terminationMessagePath: ok,
  terminationMessagePolicy: ok,
  securityContext: nested(CONTAINER_SECURITY),
  startupProbe: refuse('startup probes are not supported'),
  lifecycle: refuse('postStart and preStop hooks are not run by the embedded cluster'),
  volumeMounts: refuse('volumes are not supported by the embedded cluster'),
  volumeDevices: refuse('volumes are not supported by the embedded cluster'),
  stdin: only([false], 'pods get no standard input'),
  stdinOnce: only([false], 'pods get no standard input'),
  tty: only([false], 'pods get no terminal'),
  restartPolicy: refuse('sidecar containers are not supported'),
};

const POD: Record<string, Check> = {
  containers: (value, path) => {
    const list = Array.isArray(value) ? value : [];
    if (list.length !== 1) return `${path}: the embedded cluster runs exactly one container, got ${list.length}`;
    return isObject(list[0]) ? auditFields(list[0], CONTAINER, `${path}[0]`) : undefined;
  },
  terminationGracePeriodSeconds: ok,
  restartPolicy: only(['Always'], 'pods of a Rollout always restart'),
  // Accepted and ignored: scheduling, identity and policy that change nothing on one machine.
  serviceAccountName: ok,
  serviceAccount: ok,
  automountServiceAccountToken: ok,
  securityContext: nested(POD_SECURITY),
  nodeSelector: ok,
  affinity: ok,
  tolerations: ok,
  topologySpreadConstraints: ok,
  priorityClassName: ok,
  priority: ok,
  preemptionPolicy: ok,
  schedulerName: ok,
  runtimeClassName: ok,
  imagePullSecrets: ok,
  enableServiceLinks: ok,
  dnsPolicy: ok,
  os: ok,
  overhead: ok,
  resources: ok,
  hostNetwork: only([false], 'pods already share the machine network; hostNetwork cannot be granted'),
  hostPID: only([false], 'not supported'),
  hostIPC: only([false], 'not supported'),
  hostUsers: only([true], 'user namespaces are not supported'),
  shareProcessNamespace: only([false], 'not supported'),
  volumes: refuse('volumes are not supported by the embedded cluster'),
  initContainers: refuse('init containers are not supported by the embedded cluster'),
  ephemeralContainers: refuse('not supported'),
};

function auditFields(object: Json, fields: Record<string, Check>, path: string): string | undefined {
  for (const [key, value] of Object.entries(object)) {
    if (value === undefined || value === null) continue;
    const check = fields[key];
    const problem =
      check === undefined ? `${path}.${key}: not supported by the embedded cluster` : check(value, `${path}.${key}`);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/**
 * What in a Rollout's pod spec the embedded cluster cannot honour, named by its path, or
 * undefined. Every field is listed: honoured, accepted because it changes nothing that runs on
 * one machine (README: "What a pod honours"), or refused; a field not listed is refused too, so
 * nothing that changes what runs is ever silently ignored.
 */
export function auditPodSpec(podSpec: unknown, path = 'spec.template.spec'): string | undefined {
  if (!isObject(podSpec)) return `${path}: missing`;
  if (podSpec.containers === undefined)
    return `${path}.containers: the embedded cluster runs exactly one container, got 0`;
  return auditFields(podSpec, POD, path);
}
