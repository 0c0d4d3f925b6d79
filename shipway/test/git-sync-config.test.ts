import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitScratch } from '../src/adapters/git/git-scratch.js';
import { RegistryClient } from '../src/adapters/registry/registry-client.js';
import { CanaryController } from '../src/local/cluster/canary-controller.js';
import { GitSync } from '../src/local/cluster/git-sync.js';
import { ObjectStore } from '../src/local/cluster/object-store.js';
import { PodRuntime } from '../src/local/cluster/pod-runtime.js';
import { createRegistryServer } from '../src/local/registry/registry-server.js';
import { pushProbeImage } from './support/probe-image.js';

// kustomize's configMapGenerator and secretGenerator render hash-suffixed names and (given Argo
// Rollouts' kustomize configuration, docs/features/kustomize/rollout-transform.yaml, of which
// this test writes the two references it uses) rewrite the Rollout's references. The embedded
// cluster's Git sync stores what kustomize rendered, and the pod reads it.
let dir: string;
let registry: FastifyInstance;
let scratch: GitScratch;
let store: ObjectStore;
let pods: PodRuntime;
let controller: CanaryController;

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'shipway-git-sync-config-'));
  registry = await createRegistryServer({ dir: join(dir, 'registry') });
  const client = new RegistryClient(new URL(await registry.listen({ port: 0, host: '127.0.0.1' })).host);
  const image = await pushProbeImage(client, 'probe');
  const work = join(dir, 'work');
  mkdirSync(join(work, 'overlay'), { recursive: true });
  const files: Record<string, string> = {
    'kustomization.yaml': `namespace: probe
resources: [rollout.yaml]
configurations: [rollout-names.yaml]
configMapGenerator:
  - name: settings
    literals: [GREETING=generated]
secretGenerator:
  - name: creds
    literals: [TOKEN=generated-secret]
`,
    'rollout-names.yaml': `nameReference:
  - kind: ConfigMap
    version: v1
    fieldSpecs: [{ path: spec/template/spec/containers/envFrom/configMapRef/name, kind: Rollout }]
  - kind: Secret
    version: v1
    fieldSpecs: [{ path: spec/template/spec/containers/env/valueFrom/secretKeyRef/name, kind: Rollout }]
`,
    'rollout.yaml': `apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: { name: app }
spec:
  replicas: 1
  strategy: { canary: { steps: [] } }
  template:
    spec:
      containers:
        - name: probe
          image: ${image}
          readinessProbe: { httpGet: { path: / } }
          envFrom: [{ configMapRef: { name: settings } }]
          env: [{ name: TOKEN, valueFrom: { secretKeyRef: { name: creds, key: TOKEN } } }]
`,
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(work, 'overlay', name), text);
  const remote = join(dir, 'remote.git');
  execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', remote]);
  git(dir, 'init', '--quiet', '--initial-branch=env', work);
  git(work, 'add', '.');
  git(work, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '--quiet', '-m', 'overlay');
  git(work, 'push', '--quiet', remote, 'env');
  store = new ObjectStore();
  pods = new PodRuntime(join(dir, 'state'), () => controller.kick());
  controller = new CanaryController(store, pods);
  controller.start();
  scratch = await GitScratch.create(remote, undefined, { name: 't', email: 't@t' }, dir);
}, 60_000);

afterAll(async () => {
  controller?.stop();
  await pods?.close();
  await scratch?.dispose();
  await registry?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('Git sync stores the ConfigMaps and Secrets kustomize rendered, and pods use them', () => {
  it('hash-suffixed generator names, rewritten references, values in the pod', async () => {
    const environment = { name: 'e', branch: 'env', overlay: 'overlay', namespace: 'probe', gate: 'auto' as const };
    const sync = new GitSync(scratch, [environment], store, process.env.PATH, dir);
    await sync.syncAll();
    expect(sync.state.get('e')?.error).toBeNull();
    const configMap = store.list('ConfigMap', 'probe')[0];
    expect(configMap?.metadata.name).toMatch(/^settings-[a-z0-9]{10}$/);
    expect(store.list('Secret', 'probe')[0]?.metadata.name).toMatch(/^creds-[a-z0-9]{10}$/);
    let pod = pods.list('probe/app').find((candidate) => candidate.state === 'ready');
    for (let i = 0; i < 200 && pod === undefined; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      pod = pods.list('probe/app').find((candidate) => candidate.state === 'ready');
    }
    if (pod === undefined) throw new Error(JSON.stringify(pods.list().map((entry) => [entry.state, entry.error])));
    const seen = (await (await fetch(`http://127.0.0.1:${pod.port}/`)).json()) as { env: Record<string, string> };
    expect(seen.env).toMatchObject({ GREETING: 'generated', TOKEN: 'generated-secret' });
  }, 60_000);
});
