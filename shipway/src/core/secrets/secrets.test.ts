import { describe, expect, it } from 'vitest';
import { createRedactor } from './redact.js';
import { kubeconfigCredentials, SECRET_VARIABLES, secretsIn } from './secret-variables.js';

const KUBECONFIG = `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://10.0.0.1:6443"}}]
users:
  - name: ci
    user:
      token: kube-bearer-Token-0001
  - name: oidc
    user:
      auth-provider:
        config: {id-token: oidc-Id-Token-0002, refresh-token: oidc-Refresh-0003, client-id: shipway}
  - name: basic
    user: {username: admin, password: basic-Password-0004, client-key-data: S0VZLURBVEEtMDAwNQ==}
contexts: [{name: c, context: {cluster: c, user: ci}}]
current-context: c
`;

describe('secretsIn', () => {
  it('takes the value of every secret variable, and nothing else', () => {
    const env = Object.fromEntries(SECRET_VARIABLES.map((name) => [name, `value-of-${name}`]));
    expect(secretsIn({ ...env, SHIPWAY_REGISTRY_USERNAME: 'deployer', AWS_ROLE_ARN: 'arn:aws:iam::1:role/x' })).toEqual(
      SECRET_VARIABLES.map((name) => `value-of-${name}`),
    );
  });

  it('covers every credential variable shipway and the AWS SDK read', () => {
    expect([...SECRET_VARIABLES].sort()).toEqual(
      [
        'AWS_ID_TOKEN',
        'AWS_SECRET_ACCESS_KEY',
        'AWS_SESSION_TOKEN',
        'CI_JOB_TOKEN',
        'CI_PUSH_TOKEN',
        'KUBE_CONFIG',
        'SHIPWAY_DASHBOARD_TOKEN',
        'SHIPWAY_GIT_TOKEN',
        'SHIPWAY_REGISTRY_PASSWORD',
      ].sort(),
    );
  });

  it('adds the credentials inside a base64 KUBE_CONFIG', () => {
    const base64 = Buffer.from(KUBECONFIG).toString('base64');
    expect(secretsIn({ KUBE_CONFIG: base64 })).toEqual([
      base64,
      'kube-bearer-Token-0001',
      'oidc-Id-Token-0002',
      'oidc-Refresh-0003',
      'basic-Password-0004',
      'S0VZLURBVEEtMDAwNQ==',
    ]);
  });

  it('ignores values too short to redact safely, and a KUBE_CONFIG that is not a kubeconfig', () => {
    expect(secretsIn({ CI_JOB_TOKEN: 'abc', KUBE_CONFIG: 'not base64 yaml: [' })).toEqual(['not base64 yaml: [']);
    expect(kubeconfigCredentials(Buffer.from('- a\n- b\n').toString('base64'))).toEqual([]);
  });
});

describe('createRedactor', () => {
  it('removes a secret as is, JSON-escaped, percent-encoded and in base64', () => {
    const secret = 'p"a\\s/s+w=rd 1';
    const redact = createRedactor([secret]);
    const text = [
      secret,
      JSON.stringify({ password: secret }),
      `https://x/?t=${encodeURIComponent(secret)}`,
      Buffer.from(secret).toString('base64'),
    ].join('\n');
    expect(redact(text)).toBe(
      ['[redacted]', '{"password":"[redacted]"}', 'https://x/?t=[redacted]', '[redacted]'].join('\n'),
    );
  });

  it('removes the longer of two overlapping secrets whole', () => {
    expect(createRedactor(['token-1', 'token-1-and-more'])('x token-1-and-more y')).toBe('x [redacted] y');
  });

  it('leaves text alone when there are no secrets', () => {
    expect(createRedactor([])('nothing to hide')).toBe('nothing to hide');
  });
});
