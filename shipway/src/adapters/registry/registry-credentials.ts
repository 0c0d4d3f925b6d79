import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ExternalError } from '../../core/errors.js';
import type { RegistryCredentials } from './registry-session.js';

type Env = Readonly<Record<string, string | undefined>>;

const ECR_HOST = /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/;

/** The AWS account and region of an ECR registry host, or undefined for other registries. */
export function ecrRegistry(host: string): { account: string; region: string } | undefined {
  const match = ECR_HOST.exec(host);
  return match === null ? undefined : { account: match[1] ?? '', region: match[2] ?? '' };
}

async function fromDockerConfig(host: string, env: Env): Promise<RegistryCredentials | undefined> {
  const files = [
    env.REGISTRY_AUTH_FILE,
    env.DOCKER_CONFIG === undefined ? undefined : join(env.DOCKER_CONFIG, 'config.json'),
    join(env.HOME ?? homedir(), '.docker/config.json'),
  ].filter((file): file is string => file !== undefined && file !== '');
  for (const file of files) {
    let parsed: { auths?: Record<string, { auth?: string; username?: string; password?: string }> };
    try {
      parsed = JSON.parse(await readFile(file, 'utf8'));
    } catch {
      continue;
    }
    const entry = Object.entries(parsed.auths ?? {}).find(
      ([key]) => key.replace(/^https?:\/\//, '').replace(/\/.*$/, '') === host,
    )?.[1];
    if (entry?.auth !== undefined) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const at = decoded.indexOf(':');
      if (at > 0) return { username: decoded.slice(0, at), password: decoded.slice(at + 1) };
    }
    if (entry?.username !== undefined && entry.password !== undefined)
      return { username: entry.username, password: entry.password };
  }
  return undefined;
}

/**
 * ECR: a 12-hour token from GetAuthorizationToken, with the SDK's default credential chain
 * (static keys, profiles, and web identity — so GitLab OIDC id_tokens work without keys).
 */
async function fromEcr(region: string, env: Env): Promise<RegistryCredentials> {
  const { ECRClient, GetAuthorizationTokenCommand } = await import('@aws-sdk/client-ecr');
  try {
    // A GitLab `id_tokens:` token arrives as a variable, not a file: hand it to the web-identity
    // provider directly. Otherwise the SDK's default chain decides (keys, profiles, token files).
    const idToken = env.AWS_ID_TOKEN;
    const credentials =
      idToken && env.AWS_ROLE_ARN && !env.AWS_WEB_IDENTITY_TOKEN_FILE
        ? (await import('@aws-sdk/credential-provider-web-identity')).fromWebToken({
            roleArn: env.AWS_ROLE_ARN,
            webIdentityToken: idToken,
            roleSessionName: `shipway-${env.CI_JOB_ID ?? 'local'}`,
            clientConfig: { region },
          })
        : undefined;
    const client = new ECRClient(credentials === undefined ? { region } : { region, credentials });
    const result = await client.send(new GetAuthorizationTokenCommand({}));
    const token = result.authorizationData?.[0]?.authorizationToken;
    if (token === undefined) throw new Error('no authorization data in the answer');
    const decoded = Buffer.from(token, 'base64').toString('utf8');
    return { username: 'AWS', password: decoded.slice(decoded.indexOf(':') + 1) };
  } catch (error) {
    throw new ExternalError(
      'ECR_AUTH',
      `cannot get an ECR token in ${region}: ${error instanceof Error ? error.message : String(error)}`,
      {
        cause: error,
        hint: 'set AWS credentials: AWS_ROLE_ARN with a GitLab id_token in AWS_ID_TOKEN (OIDC), or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY',
      },
    );
  }
}

/** Credentials for a registry host: environment first, then Docker/Podman auth files, then ECR. */
export async function registryCredentials(host: string, env: Env): Promise<RegistryCredentials | undefined> {
  if (env.SHIPWAY_REGISTRY_USERNAME && env.SHIPWAY_REGISTRY_PASSWORD) {
    return { username: env.SHIPWAY_REGISTRY_USERNAME, password: env.SHIPWAY_REGISTRY_PASSWORD };
  }
  const fromFile = await fromDockerConfig(host, env);
  if (fromFile !== undefined) return fromFile;
  const ecr = ecrRegistry(host);
  return ecr === undefined ? undefined : fromEcr(ecr.region, env);
}
