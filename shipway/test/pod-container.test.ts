import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../src/adapters/registry/registry-client.js';
import { CanaryController } from '../src/local/cluster/canary-controller.js';
import { ObjectStore, toKubeObject } from '../src/local/cluster/object-store.js';
import { type Pod, PodRuntime } from '../src/local/cluster/pod-runtime.js';
import { createRegistryServer } from '../src/local/registry/registry-server.js';
import { pushProbeImage } from './support/probe-image.js';

// Pods of the embedded cluster run what the manifest says, as real processes: a probe image
// (Entrypoint ["node"], Cmd ["probe.js", "from-image-cmd"], WorkingDir /app) answers with its
// argv, working directory and environment. The rules are Kubernetes': "Define a Command and
// Arguments for a Container" and kubelet's makeEnvironmentVariables (pkg/kubelet/kubelet_pods.go).
let dir: string;
let registry: FastifyInstance;
let image: string;
let store: ObjectStore;
let pods: PodRuntime;
let controller: CanaryController;
const NS = 'probe';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'shipway-pod-container-'));
  registry = await createRegistryServer({ dir: join(dir, 'registry') });
  const client = new RegistryClient(new URL(await registry.listen({ port: 0, host: '127.0.0.1' })).host);
  image = await pushProbeImage(client, 'probe');
  store = new ObjectStore();
  pods = new PodRuntime(join(dir, 'state'), () => controller.kick());
  controller = new CanaryController(store, pods);
  controller.start();
}, 60_000);

afterAll(async () => {
  controller?.stop();
  await pods?.close();
  await registry?.close();
  rmSync(dir, { recursive: true, force: true });
});

function put(kind: string, name: string, fields: Record<string, unknown>): void {
  store.put(toKubeObject({ apiVersion: 'v1', kind, metadata: { name, namespace: NS }, ...fields }));
}

function deploy(name: string, container: Record<string, unknown>, template: Record<string, unknown> = {}): void {
  store.put(
    toKubeObject({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Rollout',
      metadata: { name, namespace: NS, generation: 1 },
      spec: {
        replicas: 1,
        template: {
          metadata: { labels: { app: name } },
          ...template,
          spec: {
            containers: [{ name: 'probe', image, readinessProbe: { httpGet: { path: '/' } }, ...container }],
            ...(template.spec as object),
          },
        },
        strategy: { canary: { steps: [] } },
      },
      status: {},
    }),
  );
}

async function podOf(name: string, until: (pod: Pod) => boolean): Promise<Pod> {
  for (let i = 0; i < 200; i += 1) {
    const pod = pods.list(`${NS}/${name}`).find(until);
    if (pod !== undefined) return pod;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(
    `no pod of ${name} got there: ${JSON.stringify(pods.list(`${NS}/${name}`).map((pod) => [pod.state, pod.error]))}`,
  );
}

interface Seen {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
}

/** Deploys the container and returns what its (real) process says it was started with. */
async function run(
  name: string,
  container: Record<string, unknown>,
  template?: Record<string, unknown>,
): Promise<Seen & { pod: Pod }> {
  deploy(name, container, template);
  const pod = await podOf(name, (candidate) => candidate.state === 'ready');
  const response = await fetch(`http://127.0.0.1:${pod.port}/`);
  return { ...((await response.json()) as Seen), pod };
}

describe('command and args against the image Entrypoint and Cmd (the four Kubernetes cases)', () => {
  it('neither: the image Entrypoint + Cmd', async () => {
    expect((await run('neither', {})).argv).toEqual(['from-image-cmd']);
  });
  it('command only: the image Entrypoint and Cmd are both unused', async () => {
    expect((await run('command', { command: ['node', 'probe.js', 'from-command'] })).argv).toEqual(['from-command']);
  });
  it('args only: the image Entrypoint + args (the image Cmd unused)', async () => {
    expect((await run('args', { args: ['probe.js', 'from-args'] })).argv).toEqual(['from-args']);
  });
  it('both, with $(VAR) expanded from the container env and $$(VAR) kept literally', async () => {
    const seen = await run('both', {
      command: ['node'],
      args: ['probe.js', 'hello-$(NAME)', '$$(NAME)', '$(UNDEFINED)', '$(FROM_IMAGE)'],
      env: [{ name: 'NAME', value: 'world' }],
    });
    // FROM_IMAGE is the image's Env: expansion reads only the container's env, as kubelet's does.
    expect(seen.argv).toEqual(['hello-world', '$(NAME)', '$(UNDEFINED)', '$(FROM_IMAGE)']);
    expect(seen.env.FROM_IMAGE).toBe('image');
  });
});

describe('env, envFrom and valueFrom from ConfigMaps, Secrets and the downward API', () => {
  beforeAll(() => {
    put('ConfigMap', 'settings', { data: { GREETING: 'from-configmap', MODE: 'configmap' } });
    put('Secret', 'creds', {
      type: 'Opaque',
      data: { TOKEN: Buffer.from('s3cret-token').toString('base64'), MODE: Buffer.from('secret').toString('base64') },
    });
  });

  it('envFrom a ConfigMap and a Secret with a prefix, then env overriding them in order', async () => {
    const seen = await run('envfrom', {
      envFrom: [{ configMapRef: { name: 'settings' } }, { secretRef: { name: 'creds' }, prefix: 'DB_' }],
      env: [
        { name: 'MODE', value: 'env-wins' },
        { name: 'URL', value: 'postgres://app:$(DB_TOKEN)@db/$(GREETING)' },
      ],
    });
    expect(seen.env).toMatchObject({
      GREETING: 'from-configmap',
      DB_TOKEN: 's3cret-token',
      DB_MODE: 'secret',
      MODE: 'env-wins',
      URL: 'postgres://app:s3cret-token@db/from-configmap',
      FROM_IMAGE: 'image',
    });
  });

  it('valueFrom configMapKeyRef, secretKeyRef and fieldRef; an optional missing key is left out', async () => {
    const seen = await run('valuefrom', {
      env: [
        { name: 'GREETING', valueFrom: { configMapKeyRef: { name: 'settings', key: 'GREETING' } } },
        { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'creds', key: 'TOKEN' } } },
        { name: 'MAYBE', valueFrom: { secretKeyRef: { name: 'creds', key: 'ABSENT', optional: true } } },
        { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
        { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
      ],
    });
    expect(seen.env).toMatchObject({
      GREETING: 'from-configmap',
      TOKEN: 's3cret-token',
      POD_NAME: seen.pod.name,
      POD_NAMESPACE: NS,
      POD_IP: '127.0.0.1',
      APP: 'valuefrom',
    });
    expect(seen.env).not.toHaveProperty('MAYBE');
  });

  it('a missing non-optional key: the pod does not start (CreateContainerConfigError), and starts once the key exists', async () => {
    put('Secret', 'late', { data: { OTHER: Buffer.from('x').toString('base64') } });
    deploy('missing', { env: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'late', key: 'TOKEN' } } }] });
    const failing = await podOf('missing', (pod) => pod.error !== undefined);
    expect(failing.error).toBe(`CreateContainerConfigError: couldn't find key TOKEN in Secret ${NS}/late`);
    expect(failing.child).toBeUndefined();
    expect(failing.state).not.toBe('ready');
    // The kubelet reads the Secret again at every start attempt.
    put('Secret', 'late', { data: { TOKEN: Buffer.from('arrived').toString('base64') } });
    const ready = await podOf('missing', (pod) => pod.state === 'ready');
    const seen = (await (await fetch(`http://127.0.0.1:${ready.port}/`)).json()) as Seen;
    expect(seen.env.TOKEN).toBe('arrived');
  }, 30_000);
});

describe('workingDir and what cannot be honoured', () => {
  it('workingDir is a directory of the image rootfs, and relative programs resolve from it', async () => {
    const seen = await run('workdir', { workingDir: '/srv' });
    const { rootfs } = await pods.image(image);
    expect(relative(realpathSync(rootfs), seen.cwd)).toBe('srv');
    expect(seen.argv).toEqual(['from-image-cmd']);
  });

  it('an unsupported field is InvalidSpec naming it, and nothing starts', async () => {
    deploy('mounts', { volumeMounts: [{ name: 'data', mountPath: '/data' }] });
    let status: Record<string, unknown> = {};
    for (let i = 0; i < 60 && status.phase !== 'Degraded'; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      status = (store.get('Rollout', NS, 'mounts')?.status ?? {}) as Record<string, unknown>;
    }
    expect(status.message).toBe(
      'InvalidSpec: spec.template.spec.containers[0].volumeMounts: volumes are not supported by the embedded cluster',
    );
    expect(pods.list(`${NS}/mounts`)).toEqual([]);
  });
});
