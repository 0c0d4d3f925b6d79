import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRegistryServer } from '../../src/local/registry/registry-server.js';
import { FakeKubeApi } from '../support/fake-kube-api.js';
import { createGitFixture, DIGEST_A, DIGEST_B, type GitFixture } from '../support/git-fixture.js';
import { LegacyRolloutApi } from '../support/legacy-rollout-api.js';
import { rolloutObject } from '../support/rollout-fixture.js';
import { shipway, shipwayProcess } from '../support/run-shipway.js';

const SHA512 = `sha512:${'0123456789abcdef'.repeat(8)}`;
const MD5 = `md5:${'a'.repeat(32)}`;
const UPPER = `sha256:${'A'.repeat(64)}`;
const image = (tag: string, digest: string) => `127.0.0.1:5000/hello:${tag}@${digest}`;

let fixture: GitFixture;
beforeEach(() => {
  fixture = createGitFixture();
});
afterEach(() => fixture.cleanup());

describe('kustomize set-image: every argument is checked before the file is touched', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'shipway-hardening-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  // Odd spacing and comments: a rewrite, even of the same entries, would show.
  const ORIGINAL = '# overlay\nresources: [ ../base ]\nimages:\n  - name: app   # pinned\n    newTag: "v1"\n';

  it.each([
    [['=x:y']],
    [[':v1']],
    [['@sha256:abc']],
    [[`app@${UPPER}`]],
    [[`app@${MD5}`]],
    [['app:v2', 'db:16', '=x:y']],
  ])('%j exits 2 and leaves the file byte-for-byte; the overlay stays usable', async (args) => {
    const file = join(dir, 'kustomization.yaml');
    writeFileSync(file, ORIGINAL);
    const rejected = await shipway(dir, ['kustomize', 'set-image', '.', ...args]);
    expect(rejected.code).toBe(2);
    expect(rejected.stdout).toBe('');
    expect(readFileSync(file, 'utf8')).toBe(ORIGINAL);
    const next = await shipway(dir, ['kustomize', 'set-image', '.', `app:v3@${SHA512}`]);
    expect([next.code, next.stderr]).toEqual([0, '']);
    expect(readFileSync(file, 'utf8')).toContain(`digest: ${SHA512}`);
  });

  it('a digest in the file that is not an OCI digest is named with its path (exit 2, file untouched)', async () => {
    const text = `images:\n  - name: app\n    digest: ${MD5}\n`;
    writeFileSync(join(dir, 'kustomization.yaml'), text);
    const run = await shipway(dir, ['kustomize', 'set-image', '.', 'db:16']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`images[0].digest "${MD5}" is not an OCI digest`);
    expect(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')).toBe(text);
  });
});

// OCI image-spec v1.1.1 descriptor.md, "Registered algorithms": sha256 ([a-f0-9]{64}) and sha512 ([a-f0-9]{128}).
describe('digests: only OCI registered algorithms are pinned', () => {
  it('promote --image refuses md5 and uppercase hex (exit 2, nothing pushed) and takes sha512', async () => {
    const before = fixture.refs();
    for (const digest of [MD5, UPPER, `sha512:${'A'.repeat(128)}`]) {
      const run = await shipway(fixture.work, ['promote', 'dev', '--image', image('v1', digest)]);
      expect([run.code, run.stderr.split('\n')[0]]).toEqual([2, expect.stringContaining('bad digest')]);
    }
    expect(fixture.refs()).toBe(before);
    const ok = await shipway(fixture.work, ['promote', 'dev', '--image', image('v1', SHA512)]);
    expect([ok.code, ok.stderr]).toEqual([0, '']);
  });

  it('a kustomization digest on a branch that is not an OCI digest stops promote --from (exit 2)', async () => {
    await shipway(fixture.work, ['promote', 'dev', '--image', image('v1', DIGEST_A)]);
    fixture.git(fixture.work, 'fetch', '--quiet', 'origin', 'dev');
    fixture.git(fixture.work, 'checkout', '--quiet', '-b', 'dev', 'FETCH_HEAD');
    const overlay = join(fixture.work, 'deployment/dev/kustomization.yaml');
    writeFileSync(overlay, readFileSync(overlay, 'utf8').replace(DIGEST_A, MD5));
    fixture.git(fixture.work, 'commit', '--quiet', '-am', 'hand edit');
    fixture.git(fixture.work, 'push', '--quiet', 'origin', 'dev');
    fixture.git(fixture.work, 'checkout', '--quiet', 'main');
    const before = fixture.refs();
    const run = await shipway(fixture.work, ['promote', 'stage', '--from', 'dev']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`images[0].digest "${MD5}" is not an OCI digest`);
    expect(run.stderr).toContain('hint: a digest is sha256:<64 lowercase hex> or sha512:<128 lowercase hex>');
    expect(fixture.refs()).toBe(before);
  });

  it('rollback --to refuses what is neither a commit nor an OCI digest (exit 2, not a refusal)', async () => {
    await shipway(fixture.work, ['promote', 'dev', '--image', image('v1', DIGEST_A)]);
    await shipway(fixture.work, ['promote', 'dev', '--image', image('v2', DIGEST_B)]);
    const before = fixture.refs();
    for (const to of [MD5, UPPER, 'main']) {
      const run = await shipway(fixture.work, ['rollback', 'dev', '--to', to]);
      expect([run.code, run.stderr.split('\n')[0]]).toEqual([
        2,
        `shipway: --to ${JSON.stringify(to)} is neither a commit nor an OCI digest`,
      ]);
    }
    expect(fixture.refs()).toBe(before);
  });

  it('the embedded registry still answers 400 to a malformed digest, and looks up well-formed ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shipway-hardening-registry-'));
    const server = await createRegistryServer({ dir });
    try {
      const url = await server.listen({ port: 0, host: '127.0.0.1' });
      const statusOf = async (digest: string) => (await fetch(`${url}/v2/hello/blobs/${digest}`)).status;
      for (const digest of [UPPER, `sha512:${'A'.repeat(128)}`, `sha512:${'a'.repeat(64)}`, 'sha256:abc']) {
        expect([digest, await statusOf(digest)]).toEqual([digest, 400]);
      }
      for (const digest of [DIGEST_A, SHA512]) expect([digest, await statusOf(digest)]).toEqual([digest, 404]);
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('rollback of an environment whose branch does not exist yet', () => {
  it('refuses with exit 4, in the words of status, with a hint; nothing pushed', async () => {
    const before = fixture.refs();
    const run = await shipway(fixture.work, ['rollback', 'prod']);
    expect(run.code).toBe(4);
    expect(run.stderr).toBe(
      'shipway: prod has nothing to roll back: branch prod does not exist yet\n' +
        '  hint: promote an image to prod first (shipway promote prod --image <ref> or --from <env>)\n',
    );
    expect(fixture.refs()).toBe(before);
    const status = JSON.parse((await shipway(fixture.work, ['status', '--json'])).stdout);
    expect(status.environments.prod.problem).toBe('branch prod does not exist yet');
  });
});

describe("rollout promote takes the plugin's decisions (promote.go getPatches, v1.9.1)", () => {
  let api: FakeKubeApi;
  let kubeconfig: string;
  beforeEach(async () => {
    api = new FakeKubeApi();
    await api.start();
    kubeconfig = join(fixture.root, 'kubeconfig');
    writeFileSync(kubeconfig, api.kubeconfig());
  });
  afterEach(() => api.stop());
  const run = (...argv: string[]) => shipway(fixture.work, ['rollout', ...argv, '--kubeconfig', kubeconfig]);
  const sent = () => api.patches.map(({ target, body: { metadata: _version, ...body } }) => ({ target, body }));

  it('--full on a rollout with spec.paused also unpauses the spec (lines 161-166)', async () => {
    api.put(rolloutObject({ currentStepIndex: 1 }, { paused: true }));
    const result = await run('promote', 'prod', '--full');
    expect(result.code, result.stderr).toBe(0);
    expect(sent()).toEqual([
      { target: 'status', body: { status: { promoteFull: true } } },
      { target: 'main', body: { spec: { paused: false } } },
    ]);
  });

  it('a manually paused canary with no pause conditions advances a step as well (lines 170-172, 186-200)', async () => {
    api.put(rolloutObject({ currentStepIndex: 2 }, { paused: true }));
    const result = await run('promote', 'prod');
    expect(result.code, result.stderr).toBe(0);
    expect(sent()).toEqual([
      { target: 'status', body: { status: { pauseConditions: null, currentStepIndex: 3 } } },
      { target: 'main', body: { spec: { paused: false } } },
    ]);
  });

  it('--expect-digest that is not an OCI digest is bad input (exit 2), nothing patched', async () => {
    api.put(rolloutObject({ currentStepIndex: 1, pauseConditions: [{ reason: 'CanaryPauseStep' }] }));
    const result = await run('promote', 'prod', '--expect-digest', MD5);
    expect([result.code, result.stderr.split('\n')[0]]).toEqual([
      2,
      `shipway: --expect-digest "${MD5}" is not an OCI digest`,
    ]);
    expect(api.patches).toEqual([]);
  });

  it('rollout wait --for digest= takes a sha512 digest', async () => {
    const template = { spec: { containers: [{ name: 'hello', image: image('v3', SHA512) }] } };
    api.put(rolloutObject({ currentStepIndex: 0 }, { template }));
    const result = await run('wait', 'prod', '--for', `digest=${SHA512}`, '--timeout', '20s');
    expect(result.code, result.stderr).toBe(0);
  });
});

describe('rollout promote on a cluster without the status subresource (Argo Rollouts v0.9)', () => {
  it('sends the unified patch to the Rollout when the status patch answers 404 (lines 118-127)', async () => {
    const api = new LegacyRolloutApi(rolloutObject({ currentStepIndex: 2 }, { paused: true }));
    await api.start();
    try {
      const kubeconfig = join(fixture.root, 'legacy-kubeconfig');
      writeFileSync(kubeconfig, api.kubeconfig());
      const result = await shipway(fixture.work, ['rollout', 'promote', 'prod', '--kubeconfig', kubeconfig]);
      expect(result.code, result.stderr).toBe(0);
      expect(
        api.patches.map(({ path, status, body: { metadata: _version, ...body } }) => [path, status, body]),
      ).toEqual([
        ['/status', 404, { status: { pauseConditions: null, currentStepIndex: 3 } }],
        ['/', 200, { spec: { paused: false }, status: { pauseConditions: null, currentStepIndex: 3 } }],
      ]);
      expect(api.current).toMatchObject({ spec: { paused: false }, status: { currentStepIndex: 3 } });
    } finally {
      await api.stop();
    }
  });
});

describe('redaction: no credential shipway reads is ever printed', () => {
  const SECRETS: Record<string, string> = {
    SHIPWAY_REGISTRY_PASSWORD: 'Registry-Password-7f3a',
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
    AWS_SESSION_TOKEN: 'IQoJb3JpZ2luX2VjEXAMPLESESSION',
    AWS_ID_TOKEN: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwcm9qZWN0In0.SIGNATURE',
    CI_JOB_TOKEN: 'glcbt-64-JobToken-0001',
    CI_PUSH_TOKEN: 'glpat-Push-Token-0002',
    SHIPWAY_GIT_TOKEN: 'glpat-Git-Token-0003',
    KUBE_CONFIG: Buffer.from('apiVersion: v1\nkind: Config\n').toString('base64'),
  };

  it.each(Object.entries(SECRETS))('%s in an error message is shown as [redacted]', async (name, secret) => {
    const run = await shipway(fixture.work, ['promote', 'dev', '--image', secret], { [name]: secret });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('invalid image reference "[redacted]"');
    expect(run.stderr + run.stdout).not.toContain(secret);
  });

  it('the bearer token inside a base64 KUBE_CONFIG is redacted too', async () => {
    const token = 'kube-Bearer-Token-0004';
    const kubeConfig = Buffer.from(`users: [{name: ci, user: {token: ${token}}}]\n`).toString('base64');
    const run = await shipway(fixture.work, ['promote', 'dev', '--image', token], { KUBE_CONFIG: kubeConfig });
    expect(run.stderr).toContain('invalid image reference "[redacted]"');
    expect(run.stderr).not.toContain(token);
  });

  it('a secret that JSON quoting escapes is still found', async () => {
    const secret = 'pass"word\\with-quotes';
    const run = await shipway(fixture.work, ['promote', 'dev', '--image', secret], { CI_PUSH_TOKEN: secret });
    expect(run.stderr).toContain('invalid image reference "[redacted]"');
    expect(run.stderr).not.toContain(JSON.stringify(secret).slice(1, -1));
  });

  it("commander's own usage errors go through the same redaction", async () => {
    const secret = SECRETS.CI_JOB_TOKEN ?? '';
    const run = await shipway(fixture.work, ['promote', 'dev', `--${secret}`], { CI_JOB_TOKEN: secret });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('[redacted]');
    expect(run.stderr).not.toContain(secret);
  });

  it('results, --json data and progress are redacted', async () => {
    const secret = 'Tag-Password-0005';
    const env = { SHIPWAY_REGISTRY_PASSWORD: secret };
    const json = await shipway(
      fixture.work,
      ['kustomize', 'set-image', 'deployment/dev', `app:${secret}`, '--json'],
      env,
    );
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout).images).toContainEqual(expect.objectContaining({ newTag: '[redacted]' }));
    const api = new FakeKubeApi();
    await api.start();
    try {
      writeFileSync(join(fixture.root, 'kubeconfig'), api.kubeconfig());
      api.put(rolloutObject({ phase: 'Healthy', message: `ready ${secret}`, currentPodHash: 'stable1' }));
      const watch = await shipway(
        fixture.work,
        ['rollout', 'status', 'prod', '--watch', '--kubeconfig', join(fixture.root, 'kubeconfig')],
        env,
      );
      expect(watch.code, watch.stderr).toBe(0);
      expect(watch.stderr).toBe('Healthy - ready [redacted]\n');
      expect(watch.stdout).toContain('Status:    Healthy - ready [redacted]');
      expect(watch.stdout + watch.stderr).not.toContain(secret);
    } finally {
      await api.stop();
    }
  });

  it('a real shipway process redacts too', async () => {
    const secret = SECRETS.AWS_SECRET_ACCESS_KEY ?? '';
    const run = await shipwayProcess(fixture.work, ['rollout', 'promote', 'prod', '--expect-digest', secret], {
      AWS_SECRET_ACCESS_KEY: secret,
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--expect-digest "[redacted]"');
    expect(run.stderr).not.toContain(secret);
  });
});
