import type { GeneratedFile, InitSettings } from './init-facts.js';
import { yamlScalar } from './yaml-scalar.js';

/** The environments init sets up, in promotion order: dev builds, stage and prod are promoted. */
export const ENVIRONMENTS = ['dev', 'stage', 'prod'] as const;
export type EnvironmentName = (typeof ENVIRONMENTS)[number];

/** A placeholder Argo CD cannot clone, so a forgotten repoURL fails loudly rather than syncing something else. */
export const REPO_URL_PLACEHOLDER = 'https://gitlab.example.com/REPLACE-ME/repository.git';

const SIZES: Record<EnvironmentName, { replicas: number; max: number }> = {
  dev: { replicas: 1, max: 2 },
  stage: { replicas: 2, max: 4 },
  prod: { replicas: 3, max: 10 },
};

export const namespaceOf = (s: InitSettings, env: EnvironmentName) => `${s.namespacePrefix}-${env}`;

/** Patches that drop the canary steps and size the Rollout and HPA for a smaller environment. */
function smallerEnvironment(s: InitSettings, env: EnvironmentName): string {
  const { replicas, max } = SIZES[env];
  return `patches:
  # No canary steps: a new image rolls out at once (a canary with no steps goes straight to 100 %).
  - target:
      kind: Rollout
      name: ${s.app}
    patch: |-
      - op: replace
        path: /spec/replicas
        value: ${replicas}
      - op: replace
        path: /spec/strategy/canary/steps
        value: []
  - target:
      kind: HorizontalPodAutoscaler
      name: ${s.app}
    patch: |-
      - op: replace
        path: /spec/minReplicas
        value: ${replicas}
      - op: replace
        path: /spec/maxReplicas
        value: ${max}
`;
}

const prodResources = (s: InitSettings) => `patches:
  - target:
      kind: Rollout
      name: ${s.app}
    patch: |-
      - op: replace
        path: /spec/template/spec/containers/0/resources
        value:
          requests:
            cpu: 200m
            memory: 192Mi
          limits:
            memory: 384Mi${
              s.canary
                ? ''
                : `
      - op: replace
        path: /spec/strategy/canary/steps
        value: []`
            }
`;

function overlay(s: InitSettings, env: EnvironmentName): GeneratedFile {
  const canary = env === 'prod' && s.canary;
  const header = `# The ${env} environment: Argo CD syncs this overlay from branch ${env} into namespace ${namespaceOf(s, env)}${
    canary ? ',\n# and Argo Rollouts runs the canary steps from the base.' : '.'
  }`;
  const source =
    env === 'dev' ? 'shipway promote' : env === 'stage' ? 'shipway promote --from dev' : 'shipway promote --from stage';
  return {
    path: `deployment/${env}/kustomization.yaml`,
    content: `${header}
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: ${namespaceOf(s, env)}
resources:
  - ../base
${env === 'prod' ? prodResources(s) : smallerEnvironment(s, env)}# The image is set by the pipeline (${source}); do not edit by hand.
images: []
`,
  };
}

function applicationSet(s: InitSettings): GeneratedFile {
  return {
    path: 'deployment/argocd/applicationset.yaml',
    content: `# One Argo CD Application per environment (generated), each following its own branch and overlay.
# Apply once per cluster: kubectl apply -n argocd -f deployment/argocd/applicationset.yaml
# Argo CD needs read access to repoURL (a deploy token).
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: ${s.app}
  namespace: argocd
spec:
  goTemplate: true
  goTemplateOptions: ["missingkey=error"]
  generators:
    - list:
        elements:
${ENVIRONMENTS.map((env) => `          - env: ${env}`).join('\n')}
  template:
    metadata:
      name: "${s.app}-{{.env}}"
    spec:
      project: default
      source:
        repoURL: ${yamlScalar(s.repoUrl)}
        targetRevision: "{{.env}}"
        path: "deployment/{{.env}}"
      destination:
        server: https://kubernetes.default.svc
        namespace: "${s.namespacePrefix}-{{.env}}"
      syncPolicy:
        automated:
          prune: true
          selfHeal: true
        syncOptions:
          - CreateNamespace=true
      # The HorizontalPodAutoscaler owns spec.replicas of the Rollout, so Git's value is not drift.
      ignoreDifferences:
        - group: argoproj.io
          kind: Rollout
          jsonPointers:
            - /spec/replicas
`,
  };
}

/** deployment/<env>/ for each environment, and the Argo CD ApplicationSet over them. */
export function renderOverlays(s: InitSettings): GeneratedFile[] {
  return [...ENVIRONMENTS.map((env) => overlay(s, env)), applicationSet(s)];
}
