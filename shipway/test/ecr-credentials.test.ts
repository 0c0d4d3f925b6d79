import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ecrRegistry, registryCredentials } from '../src/adapters/registry/registry-credentials.js';

// ECR's GetAuthorizationToken through the real @aws-sdk/client-ecr, answered by a loopback fake
// of the ECR JSON API (the SDK is pointed at it with AWS_ENDPOINT_URL_ECR).
let server: Server;
let endpoint: string;
const seen: { target: string; authorization: string }[] = [];

beforeAll(async () => {
  server = createServer(async (request: IncomingMessage, response) => {
    let body = '';
    for await (const chunk of request) body += String(chunk);
    seen.push({
      target: String(request.headers['x-amz-target']),
      authorization: String(request.headers.authorization),
    });
    if (body.includes('Action=AssumeRoleWithWebIdentity')) {
      // STS's query API: the web identity token in, temporary keys out.
      seen.push({ target: `sts:${new URLSearchParams(body).get('WebIdentityToken')}`, authorization: '' });
      response
        .writeHead(200, { 'content-type': 'text/xml' })
        .end(
          '<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>ASIAFROMOIDC</AccessKeyId><SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>',
        );
      return;
    }
    if (String(request.headers.authorization).includes('AKIDBADKEY')) {
      response.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' }).end(
        JSON.stringify({
          __type: 'UnrecognizedClientException',
          message: 'The security token included in the request is invalid.',
        }),
      );
      return;
    }
    response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end(
      JSON.stringify({
        authorizationData: [
          {
            authorizationToken: Buffer.from('AWS:ecr-password-123').toString('base64'),
            expiresAt: 1_900_000_000,
            proxyEndpoint: 'https://123456789012.dkr.ecr.ap-northeast-2.amazonaws.com',
          },
        ],
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const ECR = '123456789012.dkr.ecr.ap-northeast-2.amazonaws.com';
const aws = (key: string) => ({
  AWS_ENDPOINT_URL_ECR: endpoint,
  AWS_ACCESS_KEY_ID: key,
  AWS_SECRET_ACCESS_KEY: 'secret',
  HOME: '/nonexistent',
});

describe('registry credentials', () => {
  it('recognises ECR hosts', () => {
    expect(ecrRegistry(ECR)).toEqual({ account: '123456789012', region: 'ap-northeast-2' });
    expect(ecrRegistry('127.0.0.1:5000')).toBeUndefined();
  });

  it("gets an ECR token with the SDK's default credential chain (here: the original static-key variables)", async () => {
    const saved = { ...process.env };
    Object.assign(process.env, aws('AKIDGOODKEY'));
    try {
      expect(await registryCredentials(ECR, { HOME: '/nonexistent' })).toEqual({
        username: 'AWS',
        password: 'ecr-password-123',
      });
    } finally {
      process.env = saved;
    }
    expect(seen.at(-1)?.target).toBe('AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken');
    expect(seen.at(-1)?.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDGOODKEY\/\d{8}\/ap-northeast-2\/ecr\/aws4_request/,
    );
  });

  it('a GitLab id_token in AWS_ID_TOKEN with AWS_ROLE_ARN is exchanged through STS, no static keys', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_ECR: endpoint,
      AWS_ENDPOINT_URL_STS: endpoint,
      HOME: '/nonexistent',
    });
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    try {
      const credentials = await registryCredentials(ECR, {
        AWS_ROLE_ARN: 'arn:aws:iam::123456789012:role/gitlab',
        AWS_ID_TOKEN: 'eyJ.gitlab.jwt',
        CI_JOB_ID: '77',
      });
      expect(credentials).toEqual({ username: 'AWS', password: 'ecr-password-123' });
    } finally {
      process.env = saved;
    }
    expect(seen.map((entry) => entry.target)).toContain('sts:eyJ.gitlab.jwt');
    expect(seen.at(-1)?.authorization).toMatch(/Credential=ASIAFROMOIDC\//);
  });

  it('a refused ECR token is an ExternalError naming the region and what to set', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, aws('AKIDBADKEY'));
    try {
      await expect(registryCredentials(ECR, { HOME: '/nonexistent' })).rejects.toMatchObject({
        code: 'ECR_AUTH',
        message: expect.stringContaining(
          'cannot get an ECR token in ap-northeast-2: The security token included in the request is invalid.',
        ),
      });
    } finally {
      process.env = saved;
    }
  });

  it('prefers SHIPWAY_REGISTRY_USERNAME/PASSWORD, then docker config.json auths', async () => {
    expect(
      await registryCredentials('r.example:5000', { SHIPWAY_REGISTRY_USERNAME: 'u', SHIPWAY_REGISTRY_PASSWORD: 'p' }),
    ).toEqual({ username: 'u', password: 'p' });
    const dir = (await import('node:fs')).mkdtempSync(`${(await import('node:os')).tmpdir()}/docker-config-`);
    (await import('node:fs')).writeFileSync(
      `${dir}/config.json`,
      JSON.stringify({
        auths: { 'https://r.example:5000': { auth: Buffer.from('bob:pw:with:colons').toString('base64') } },
      }),
    );
    expect(await registryCredentials('r.example:5000', { DOCKER_CONFIG: dir, HOME: '/nonexistent' })).toEqual({
      username: 'bob',
      password: 'pw:with:colons',
    });
    expect(await registryCredentials('other:5000', { DOCKER_CONFIG: dir, HOME: '/nonexistent' })).toBeUndefined();
  });
});
