import type { GeneratedFile, InitSettings } from './init-facts.js';

/**
 * deployment/base: the service on Kubernetes, shared by every environment. The shape is the
 * hello service's (deployment/ in shipway's repository): an Argo Rollouts canary over three
 * Services without a mesh, a PodDisruptionBudget, an HPA that owns the replica count, a
 * NetworkPolicy, an AnalysisTemplate and a ServiceAccount without a token.
 */
export function renderBase(s: InitSettings): GeneratedFile[] {
  const file = (name: string, content: string) => ({ path: `deployment/base/${name}`, content });
  return [
    file('kustomization.yaml', kustomization(s)),
    file('serviceaccount.yaml', serviceAccount(s)),
    file('services.yaml', services(s)),
    file('rollout.yaml', rollout(s)),
    file('analysis-template.yaml', analysisTemplate(s)),
    file('pod-disruption-budget.yaml', podDisruptionBudget(s)),
    file('horizontal-pod-autoscaler.yaml', horizontalPodAutoscaler(s)),
    file('network-policy.yaml', networkPolicy(s)),
  ];
}

const kustomization = (
  s: InitSettings,
) => `# ${s.app} on Kubernetes, shared by every environment. Overlays (dev, stage, prod) set the
# namespace, the replica count, the resources and the image the pipeline pins.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
labels:
  - pairs:
      app.kubernetes.io/name: ${s.app}
      app.kubernetes.io/managed-by: shipway
    includeSelectors: true
resources:
  - serviceaccount.yaml
  - services.yaml
  - rollout.yaml
  - analysis-template.yaml
  - pod-disruption-budget.yaml
  - horizontal-pod-autoscaler.yaml
  - network-policy.yaml
`;

const serviceAccount = (s: InitSettings) => `apiVersion: v1
kind: ServiceAccount
metadata:
  name: ${s.app}
automountServiceAccountToken: false
`;

const service = (name: string) => `apiVersion: v1
kind: Service
metadata:
  name: ${name}
spec:
  ports:
    - name: http
      port: 80
      targetPort: http
`;

const services = (
  s: InitSettings,
) => `# A basic canary without a mesh: the root Service balances across stable and canary pods, so the
# traffic split follows pod counts; Argo Rollouts points ${s.app}-stable and ${s.app}-canary at their
# ReplicaSets by adding the rollouts-pod-template-hash selector.
${service(s.app)}---
${service(`${s.app}-stable`)}---
${service(`${s.app}-canary`)}`;

const probe = (path: string, period: number, failures: number) => `            httpGet:
              path: ${path}
              port: http
            periodSeconds: ${period}
            failureThreshold: ${failures}`;

const rollout = (s: InitSettings) => `apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: ${s.app}
spec:
  replicas: 3
  revisionHistoryLimit: 5
  progressDeadlineSeconds: 300
  progressDeadlineAbort: true
  selector:
    matchLabels:
      app.kubernetes.io/name: ${s.app}
  strategy:
    canary:
      stableService: ${s.app}-stable
      canaryService: ${s.app}-canary
      maxSurge: 1
      maxUnavailable: 0
      # prod runs these steps; dev and stage replace them with none (a new image at once).
      steps:
        - setWeight: 20
        - pause: {}
        - setWeight: 50
        - pause:
            duration: 30s
        - analysis:
            templates:
              - templateName: ${s.app}-success-rate
            args:
              - name: canary-hash
                valueFrom:
                  podTemplateHashValue: Latest
        - setWeight: 100
  template:
    metadata:
      labels:
        app.kubernetes.io/name: ${s.app}
    spec:
      serviceAccountName: ${s.app}
      automountServiceAccountToken: false
      terminationGracePeriodSeconds: 30
      securityContext:
        runAsNonRoot: true
        runAsUser: 1000
        runAsGroup: 1000
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: ${s.app}
          # The name the overlays' \`images:\` entries replace with repository:tag@digest.
          image: ${s.app}
          ports:
            - name: http
              containerPort: ${s.port}
              protocol: TCP
          env:
            - name: PORT
              value: "${s.port}"
          readinessProbe:
${probe(s.readiness, 5, 2)}
          livenessProbe:
${probe(s.liveness, 10, 3)}
          resources:
            requests:
              cpu: 100m
              memory: 128Mi
            limits:
              memory: 256Mi
          securityContext:
            allowPrivilegeEscalation: false
            # The image is the app; a service that writes files needs an emptyDir volume for them.
            readOnlyRootFilesystem: true
            capabilities:
              drop:
                - ALL
`;

const analysisTemplate = (
  s: InitSettings,
) => `# Fails the canary when more than 1 % of its requests answer 5xx, from the service's own
# http_requests_total{status} counter (prom-client's convention) for the canary's pods only,
# picked by the pod-template hash Argo Rollouts passes in. A service that exports no such metric
# gives no data, which passes: export it, or change the query to a metric the service has.
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: ${s.app}-success-rate
spec:
  args:
    - name: canary-hash
  metrics:
    - name: error-rate
      interval: 10s
      count: 3
      failureLimit: 1
      inconclusiveLimit: 1
      successCondition: len(result) == 0 || isNaN(result[0]) || result[0] <= 0.01
      failureCondition: len(result) > 0 && result[0] > 0.05
      provider:
        prometheus:
          address: http://prometheus-server.monitoring.svc:80
          query: |
            sum(rate(http_requests_total{rollouts_pod_template_hash="{{args.canary-hash}}",status=~"5.."}[1m]))
            /
            sum(rate(http_requests_total{rollouts_pod_template_hash="{{args.canary-hash}}"}[1m]))
`;

const podDisruptionBudget = (s: InitSettings) => `apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: ${s.app}
spec:
  maxUnavailable: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: ${s.app}
`;

const horizontalPodAutoscaler = (s: InitSettings) => `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: ${s.app}
spec:
  scaleTargetRef:
    apiVersion: argoproj.io/v1alpha1
    kind: Rollout
    name: ${s.app}
  minReplicas: 3
  maxReplicas: 10
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: 70
`;

const networkPolicy = (
  s: InitSettings,
) => `# Only HTTP on the service port comes in. Outbound traffic is not restricted, since init cannot
# know what the service calls: list those destinations under egress and add Egress to
# policyTypes to deny the rest.
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: ${s.app}
spec:
  podSelector:
    matchLabels:
      app.kubernetes.io/name: ${s.app}
  policyTypes:
    - Ingress
  ingress:
    - ports:
        - port: ${s.port}
          protocol: TCP
`;
