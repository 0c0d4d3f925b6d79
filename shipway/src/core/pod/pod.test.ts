import { describe, expect, it } from 'vitest';
import { auditPodSpec } from './audit-pod-spec.js';
import { containerArgv } from './container-argv.js';
import { containerEnv, type EnvSources } from './container-env.js';
import { expandVars } from './expand-vars.js';
import { podFieldValue } from './pod-fields.js';
import type { Container } from './pod-template.js';

// Expected values from Kubernetes' own table for the forked expansion package
// (third_party/forked/golang/expansion/expand_test.go, doExpansionTest).
describe('expandVars: $(VAR) as the kubelet expands it', () => {
  const vars = new Map([
    ['VAR_A', 'A'],
    ['VAR_B', 'B'],
    ['VAR_REF', '$(VAR_A)'],
    ['VAR_EMPTY', ''],
  ]);
  it.each([
    ['$(VAR_A)-$(VAR_A)', 'A-A'],
    ['___$(VAR_B)___', '___B___'],
    ['$$(VAR_B)_$(VAR_A)', '$(VAR_B)_A'],
    ['f000-$$VAR_A', 'f000-$VAR_A'],
    ['$(VAR_A$(VAR_B))', '$(VAR_A$(VAR_B))'],
    ['$(VAR_REF)', '$(VAR_A)'],
    ['foo$(VAR_EMPTY)bar', 'foobar'],
    ['foo$(VAR_Awhoops!', 'foo$(VAR_Awhoops!'],
    ['$?_boo_$!', '$?_boo_$!'],
    ['$VAR_A', '$VAR_A'],
    ['$(VAR_DNE)', '$(VAR_DNE)'],
    ['$$$$$$(BIG_MONEY)', '$$$(BIG_MONEY)'],
    ['$$$$$$$(VAR_A)', '$$$A'],
    ['${VAR_A}', '${VAR_A}'],
    ['$(VAR_B)_______$(A', 'B_______$(A'],
    ['$(VAR_A)foobarzab$', 'Afoobarzab$'],
    ['--$($($($($--', '--$($($($($--'],
    ['$(foo$$var)', '$(foo$$var)'],
  ])('%s → %s', (input, expected) => {
    expect(expandVars(input, (name) => vars.get(name))).toBe(expected);
  });
});

// "Define a Command and Arguments for a Container" (kubernetes.io), the table of four cases.
describe('containerArgv: command and args against the image Entrypoint and Cmd', () => {
  const image = { Entrypoint: ['/ep-1'], Cmd: ['foo', 'bar'] };
  const env = new Map([['NAME', 'world']]);
  it.each([
    ['neither: Entrypoint + Cmd', {}, ['/ep-1', 'foo', 'bar']],
    ['command only: command, Cmd ignored', { command: ['/ep-2'] }, ['/ep-2']],
    ['args only: Entrypoint + args', { args: ['zoo', 'boo'] }, ['/ep-1', 'zoo', 'boo']],
    ['both: command + args', { command: ['/ep-2'], args: ['zoo', 'boo'] }, ['/ep-2', 'zoo', 'boo']],
    [
      '$(VAR) from the container env, $$ escaped',
      { args: ['hi-$(NAME)', '$$(NAME)'] },
      ['/ep-1', 'hi-world', '$(NAME)'],
    ],
  ])('%s', (_case, container, argv) => {
    expect(containerArgv(image, container, env)).toEqual(argv);
  });

  it("the image's own Cmd is never expanded, and nothing at all is no command", () => {
    expect(containerArgv({ Cmd: ['echo', '$(NAME)'] }, {}, env)).toEqual(['echo', '$(NAME)']);
    expect(containerArgv({ Entrypoint: null, Cmd: null }, {}, env)).toBeUndefined();
  });
});

describe('containerEnv: makeEnvironmentVariables order and override rules', () => {
  const sources: EnvSources = {
    configMap: (name) => ({ app: { GREETING: 'hi', MODE: 'cm', 'bad=key': 'x' }, other: { MODE: 'other' } })[name],
    secret: (name) => ({ creds: { TOKEN: 's3cret', MODE: 'secret' } })[name],
    field: (path) => `field:${path}`,
  };
  const container = (fields: Partial<Container>): Container => ({ name: 'c', image: 'i', ...fields });

  it('envFrom in order (later wins, prefix prepended), then env overrides, $(VAR) sees earlier vars', () => {
    const result = containerEnv(
      container({
        envFrom: [
          { configMapRef: { name: 'app' } },
          { secretRef: { name: 'creds' }, prefix: 'S_' },
          { configMapRef: { name: 'other' } },
        ],
        env: [
          { name: 'LATER', value: '$(FIRST)' },
          { name: 'FIRST', value: 'one' },
          { name: 'BOTH', value: '$(FIRST)-$(S_TOKEN)-$(GREETING)' },
          { name: 'GREETING', value: 'overridden' },
          { name: 'KEY', valueFrom: { configMapKeyRef: { name: 'app', key: 'GREETING' } } },
          { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        ],
      }),
      'ns',
      sources,
    );
    if (!result.ok) throw new Error(result.error.message);
    expect(Object.fromEntries(result.env)).toEqual({
      GREETING: 'overridden',
      MODE: 'other',
      S_TOKEN: 's3cret',
      S_MODE: 'secret',
      LATER: '$(FIRST)',
      FIRST: 'one',
      BOTH: 'one-s3cret-hi',
      KEY: 'hi',
      POD: 'field:metadata.name',
    });
    expect(result.skipped).toEqual(['bad=key']);
  });

  it('a missing key or object is CreateContainerConfigError unless optional; an optional miss keeps the earlier value', () => {
    const missingKey = containerEnv(
      container({ env: [{ name: 'T', valueFrom: { secretKeyRef: { name: 'creds', key: 'NOPE' } } }] }),
      'ns',
      sources,
    );
    expect(missingKey).toEqual({
      ok: false,
      error: { reason: 'CreateContainerConfigError', message: "couldn't find key NOPE in Secret ns/creds" },
    });
    const missingMap = containerEnv(container({ envFrom: [{ configMapRef: { name: 'gone' } }] }), 'ns', sources);
    expect(missingMap).toMatchObject({ ok: false, error: { message: 'configmap "gone" not found' } });
    const optional = containerEnv(
      container({
        envFrom: [{ configMapRef: { name: 'gone', optional: true } }, { configMapRef: { name: 'app' } }],
        env: [{ name: 'MODE', valueFrom: { configMapKeyRef: { name: 'app', key: 'NOPE', optional: true } } }],
      }),
      'ns',
      sources,
    );
    expect(optional.ok && optional.env.get('MODE')).toBe('cm');
  });
});

describe('podFieldValue: the downward API of a local pod', () => {
  const pod = {
    name: 'hello-abc-1',
    namespace: 'hello-prod',
    uid: 'u-1',
    labels: { app: 'hello' },
    annotations: {},
    serviceAccountName: 'hello',
  };
  it.each([
    ['metadata.name', 'hello-abc-1'],
    ['metadata.namespace', 'hello-prod'],
    ["metadata.labels['app']", 'hello'],
    ['status.podIP', '127.0.0.1'],
    ['spec.serviceAccountName', 'hello'],
  ])('%s', (path, value) => expect(podFieldValue(pod, path)).toBe(value));
});

describe('auditPodSpec: every field honoured, accepted or refused by name', () => {
  const spec = (container: Record<string, unknown>, pod: Record<string, unknown> = {}) => ({
    containers: [{ name: 'c', image: 'i', ...container }],
    ...pod,
  });
  it('accepts what the deployment uses', () => {
    expect(
      auditPodSpec(
        spec(
          {
            ports: [{ name: 'http', containerPort: 8080 }],
            resources: { limits: { memory: '128Mi' } },
            readinessProbe: { httpGet: { path: '/readyz', port: 'http' } },
            securityContext: { readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
          },
          { serviceAccountName: 'hello', securityContext: { runAsNonRoot: true, runAsUser: 1000 } },
        ),
      ),
    ).toBeUndefined();
  });
  it.each([
    [
      { volumeMounts: [{ name: 'v', mountPath: '/v' }] },
      {},
      'spec.template.spec.containers[0].volumeMounts: volumes are not supported by the embedded cluster',
    ],
    [
      { lifecycle: { preStop: {} } },
      {},
      'spec.template.spec.containers[0].lifecycle: postStart and preStop hooks are not run by the embedded cluster',
    ],
    [
      { readinessProbe: { exec: { command: ['true'] } } },
      {},
      'spec.template.spec.containers[0].readinessProbe.exec: only httpGet probes are supported',
    ],
    [
      { securityContext: { capabilities: { add: ['NET_ADMIN'] } } },
      {},
      'spec.template.spec.containers[0].securityContext.capabilities.add: capabilities cannot be granted',
    ],
    [
      { env: [{ name: 'N', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }] },
      {},
      'spec.template.spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: spec.nodeName: the embedded cluster has no nodes',
    ],
    [{ madeUp: true }, {}, 'spec.template.spec.containers[0].madeUp: not supported by the embedded cluster'],
    [{}, { hostAliases: [] }, 'spec.template.spec.hostAliases: not supported by the embedded cluster'],
    [
      {},
      { initContainers: [] },
      'spec.template.spec.initContainers: init containers are not supported by the embedded cluster',
    ],
  ])('%j %j', (container, pod, message) => {
    expect(auditPodSpec(spec(container, pod))).toBe(message);
  });
});
