/** What the downward API (`valueFrom.fieldRef`) can tell a pod of the embedded cluster. */
export interface PodIdentity {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly serviceAccountName: string;
}

// Every pod listens on the loopback interface of this machine, so that is its IP and its host's.
const LOOPBACK = '127.0.0.1';
const SUBSCRIPTED = /^metadata\.(labels|annotations)\['([^']*)'\]$/;

/**
 * Why a fieldPath cannot be honoured, or undefined. The paths are those the API server accepts
 * for env (pkg/apis/core/validation: validEnvDownwardAPIFieldPathExpressions, plus subscripted
 * labels and annotations); `spec.nodeName` is refused because the embedded cluster has no nodes,
 * and a made-up name would send the program somewhere that does not exist.
 */
export function fieldPathProblem(path: string): string | undefined {
  if (SUBSCRIPTED.test(path)) return undefined;
  if (path === 'spec.nodeName') return 'spec.nodeName: the embedded cluster has no nodes';
  const known = [
    'metadata.name',
    'metadata.namespace',
    'metadata.uid',
    'spec.serviceAccountName',
    'status.podIP',
    'status.podIPs',
    'status.hostIP',
    'status.hostIPs',
  ];
  return known.includes(path) ? undefined : `${path}: not a supported fieldPath for env`;
}

/** A supported fieldPath's value for this pod (kubelet podFieldSelectorRuntimeValue). */
export function podFieldValue(pod: PodIdentity, path: string): string {
  const subscripted = SUBSCRIPTED.exec(path);
  if (subscripted !== null) {
    const map = subscripted[1] === 'labels' ? pod.labels : pod.annotations;
    return map[subscripted[2] ?? ''] ?? '';
  }
  const values: Record<string, string> = {
    'metadata.name': pod.name,
    'metadata.namespace': pod.namespace,
    'metadata.uid': pod.uid,
    'spec.serviceAccountName': pod.serviceAccountName,
    'status.podIP': LOOPBACK,
    'status.podIPs': LOOPBACK,
    'status.hostIP': LOOPBACK,
    'status.hostIPs': LOOPBACK,
  };
  return values[path] ?? '';
}
