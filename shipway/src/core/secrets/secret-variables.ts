import { parse } from 'yaml';

/**
 * Every environment variable a credential reaches shipway through, read by shipway itself or by a
 * library it hands the environment to. This list is the only place that says which ones are
 * secret; the CLI removes their values from everything it prints.
 */
export const SECRET_VARIABLES = [
  // Git push credentials (app/git-remote.ts credentialsFrom).
  'SHIPWAY_GIT_TOKEN',
  'CI_PUSH_TOKEN',
  'CI_JOB_TOKEN',
  // Registry Basic auth (adapters/registry/registry-credentials.ts).
  'SHIPWAY_REGISTRY_PASSWORD',
  // ECR: the GitLab OIDC id_token shipway passes to STS, and the static or session keys the AWS
  // SDK's default credential chain reads from the environment.
  'AWS_ID_TOKEN',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  // The original pipeline's base64 kubeconfig (adapters/kubernetes/load-kubeconfig.ts).
  'KUBE_CONFIG',
  // The dashboard's standing access token (app/dashboard/serve-dashboard.ts).
  'SHIPWAY_DASHBOARD_TOKEN',
] as const;

/** Shorter values would blank out ordinary words; GitLab will not mask values under 8 either. */
const MIN_SECRET_LENGTH = 4;

type Env = Readonly<Record<string, string | undefined>>;

/** Kubeconfig `users[].user` fields that hold a credential (token, password, private key, OIDC tokens). */
const CREDENTIAL_KEY = /token|password|secret|key-data/i;

function credentialsUnder(value: unknown, key: string, found: string[]): void {
  if (typeof value === 'string') {
    if (CREDENTIAL_KEY.test(key)) found.push(value);
  } else if (Array.isArray(value)) {
    for (const item of value) credentialsUnder(item, key, found);
  } else if (typeof value === 'object' && value !== null) {
    for (const [child, inner] of Object.entries(value)) credentialsUnder(inner, child, found);
  }
}

/**
 * The credentials inside a base64 kubeconfig (KUBE_CONFIG): its users' tokens, passwords and keys,
 * which a message could carry decoded. Anything unreadable yields nothing; loading it reports that.
 */
export function kubeconfigCredentials(base64: string): string[] {
  try {
    const config: unknown = parse(Buffer.from(base64, 'base64').toString('utf8'), { maxAliasCount: 10 });
    const users = typeof config === 'object' && config !== null ? (config as { users?: unknown }).users : undefined;
    const found: string[] = [];
    if (Array.isArray(users)) for (const user of users) credentialsUnder((user as { user?: unknown })?.user, '', found);
    return found;
  } catch {
    return [];
  }
}

/** The secret values in this environment, including the credentials decoded from KUBE_CONFIG. */
export function secretsIn(env: Env): string[] {
  const values: string[] = [];
  for (const name of SECRET_VARIABLES) {
    const value = env[name];
    if (value === undefined) continue;
    values.push(value);
    if (name === 'KUBE_CONFIG') values.push(...kubeconfigCredentials(value));
  }
  return [...new Set(values.filter((value) => value.length >= MIN_SECRET_LENGTH))];
}
