/** A prod-like canary Rollout as the fake API server stores it, with status overrides. */
export const CANARY_DIGEST = `sha256:${'c'.repeat(64)}`;
export const STABLE_DIGEST = `sha256:${'5'.repeat(64)}`;

export function rolloutObject(
  status: Record<string, unknown>,
  spec: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    metadata: { name: 'hello', namespace: 'hello-prod', generation: 2 },
    spec: {
      replicas: 5,
      selector: { matchLabels: { app: 'hello' } },
      template: { spec: { containers: [{ name: 'hello', image: `127.0.0.1:5000/hello:v2@${CANARY_DIGEST}` }] } },
      strategy: {
        canary: {
          steps: [
            { setWeight: 20 },
            { pause: {} },
            { setWeight: 50 },
            { pause: { duration: '30s' } },
            { analysis: { templates: [{ templateName: 'hello-success-rate' }] } },
            { setWeight: 100 },
          ],
        },
      },
      ...spec,
    },
    status: {
      observedGeneration: '2',
      stableRS: 'stable1',
      currentPodHash: 'canary2',
      replicas: 5,
      updatedReplicas: 1,
      availableReplicas: 5,
      ...status,
    },
  };
}

export function stableReplicaSet(): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'hello-stable1', namespace: 'hello-prod', labels: { 'rollouts-pod-template-hash': 'stable1' } },
    spec: {
      template: { spec: { containers: [{ name: 'hello', image: `127.0.0.1:5000/hello:v1@${STABLE_DIGEST}` }] } },
    },
  };
}
