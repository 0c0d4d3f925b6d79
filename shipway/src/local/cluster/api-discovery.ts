// The discovery documents `kubectl get` and @kubernetes/client-node read before anything else,
// for the few resources the embedded cluster serves.
const ROLLOUT_RESOURCES = {
  kind: 'APIResourceList',
  apiVersion: 'v1',
  groupVersion: 'argoproj.io/v1alpha1',
  resources: [
    {
      name: 'rollouts',
      singularName: 'rollout',
      namespaced: true,
      kind: 'Rollout',
      shortNames: ['ro'],
      verbs: ['get', 'list', 'watch', 'patch'],
    },
    { name: 'rollouts/status', singularName: '', namespaced: true, kind: 'Rollout', verbs: ['get', 'patch'] },
    { name: 'analysisruns', singularName: 'analysisrun', namespaced: true, kind: 'AnalysisRun', verbs: ['list'] },
  ],
};
const APPS_RESOURCES = {
  kind: 'APIResourceList',
  apiVersion: 'v1',
  groupVersion: 'apps/v1',
  resources: [
    {
      name: 'replicasets',
      singularName: 'replicaset',
      namespaced: true,
      kind: 'ReplicaSet',
      shortNames: ['rs'],
      verbs: ['get', 'list'],
    },
  ],
};
const CORE_RESOURCES = {
  kind: 'APIResourceList',
  apiVersion: 'v1',
  groupVersion: 'v1',
  resources: [
    {
      name: 'namespaces',
      singularName: 'namespace',
      namespaced: false,
      kind: 'Namespace',
      shortNames: ['ns'],
      verbs: ['get', 'list'],
    },
  ],
};
const GROUPS = {
  kind: 'APIGroupList',
  apiVersion: 'v1',
  groups: [
    {
      name: 'apps',
      versions: [{ groupVersion: 'apps/v1', version: 'v1' }],
      preferredVersion: { groupVersion: 'apps/v1', version: 'v1' },
    },
    {
      name: 'argoproj.io',
      versions: [{ groupVersion: 'argoproj.io/v1alpha1', version: 'v1alpha1' }],
      preferredVersion: { groupVersion: 'argoproj.io/v1alpha1', version: 'v1alpha1' },
    },
  ],
};

const VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0-shipway-embedded',
  platform: `${process.platform}/${process.arch}`,
};

/** Discovery paths and their documents; only GET reads them. */
export const DISCOVERY: ReadonlyMap<string, unknown> = new Map<string, unknown>([
  ['/version', VERSION],
  ['/api', { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] }],
  ['/api/v1', CORE_RESOURCES],
  ['/apis', GROUPS],
  ['/apis/argoproj.io/v1alpha1', ROLLOUT_RESOURCES],
  ['/apis/apps/v1', APPS_RESOURCES],
]);
