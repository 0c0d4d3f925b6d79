import { isAbsolute, normalize } from 'node:path/posix';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { isValidRepository } from '../image-ref.js';

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const BRANCH = /^(?!\/|.*\/\/|.*\.\.|.*@\{|.*\.lock$|.*\/$)[A-Za-z0-9._/-]+$/;

/** An http(s) URL that carries nothing but the location: it is written into published images. */
const isPublicUrl = (text: string) => {
  try {
    const url = new URL(text);
    const plain = url.username === '' && url.password === '' && url.search === '' && url.hash === '';
    return plain && (url.protocol === 'https:' || url.protocol === 'http:');
  } catch {
    return false;
  }
};

const relativePath = z
  .string()
  .min(1)
  .refine((path) => !isAbsolute(path) && !normalize(path).startsWith('..'), {
    message: 'must be a path inside the repository',
  });

export const environmentSchema = z.strictObject({
  name: z.string().regex(NAME, 'must be a DNS label (lower-case letters, digits, -)'),
  branch: z.string().regex(BRANCH, 'must be a valid Git branch name'),
  overlay: relativePath,
  namespace: z.string().regex(NAME, 'must be a DNS label (lower-case letters, digits, -)'),
  from: z.string().optional(),
  gate: z.enum(['auto', 'manual']).default('auto'),
  url: z.string().url().optional(),
  rollout: z
    .strictObject({
      name: z.string().regex(NAME, 'must be a DNS label'),
      strategy: z.enum(['canary', 'blueGreen', 'rolling']),
    })
    .optional(),
});

const configSchema = z.strictObject({
  app: z.string().regex(NAME, 'must be a DNS label (lower-case letters, digits, -)'),
  image: z.strictObject({
    /** The image name the manifests use, i.e. the kustomize `images[].name` the pipeline sets. */
    name: z.string().min(1),
    /** Where the image is pushed; `${VAR}` and `${VAR:-default}` are expanded from the environment. */
    repository: z.string().min(1),
    /**
     * The public project URL for the image's org.opencontainers.image.source label (default:
     * GitLab's CI_PROJECT_URL). It goes into every published image, so no credentials.
     */
    source: z
      .string()
      .refine(isPublicUrl, { message: 'must be an http(s) URL without user, password, query or fragment' })
      .optional(),
  }),
  build: z.strictObject({
    /** The service's package directory (its package.json, build script and output). */
    context: relativePath.default('.'),
    /** Where the build script writes the compiled app, relative to the context. */
    output: relativePath.default('dist'),
    inputs: z.array(relativePath).min(1),
  }),
  git: z.strictObject({ remote: z.string().min(1).default('origin') }).default({ remote: 'origin' }),
  environments: z.array(environmentSchema).min(1),
});

export type ShipwayConfig = z.infer<typeof configSchema>;
export type EnvironmentConfig = ShipwayConfig['environments'][number];

function crossCheck(config: ShipwayConfig): string[] {
  const problems: string[] = [];
  const seen = new Map<string, number>();
  config.environments.forEach((env, index) => {
    const at = `environments[${index}]`;
    if (seen.has(env.name)) problems.push(`${at}.name: duplicate environment ${JSON.stringify(env.name)}`);
    if (env.from !== undefined && !seen.has(env.from)) {
      problems.push(`${at}.from: ${JSON.stringify(env.from)} must name an environment listed before ${env.name}`);
    }
    seen.set(env.name, index);
  });
  const branches = config.environments.map((env) => env.branch);
  branches.forEach((branch, index) => {
    if (branches.indexOf(branch) !== index) problems.push(`environments[${index}].branch: ${branch} is used twice`);
  });
  return problems;
}

/** Parses shipway.yaml text; throws one ConfigError listing every problem with its path and line. */
export function parseShipwayConfig(text: string, file = 'shipway.yaml'): ShipwayConfig {
  const document = parseDocument(text, { prettyErrors: true });
  if (document.errors.length > 0) {
    const problems = document.errors.map((error) => `${file}: ${error.message.split('\n')[0] ?? ''}`);
    throw new ConfigError('CONFIG_INVALID', `${file} is not valid YAML`, {
      problems,
      hint: 'fix the YAML syntax on the line shown',
    });
  }
  const result = configSchema.safeParse(document.toJS());
  const problems = result.success
    ? crossCheck(result.data)
    : result.error.issues.map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`);
  if (!result.success || problems.length > 0) {
    throw new ConfigError(
      'CONFIG_INVALID',
      `${file} is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'})`,
      { problems, hint: 'see the shipway.yaml reference in the README' },
    );
  }
  return result.data;
}

const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Expands `${VAR}` and `${VAR:-default}`; an unset variable with no default is a ConfigError naming it. */
export function expandVariables(
  template: string,
  env: Readonly<Record<string, string | undefined>>,
  path: string,
): string {
  const missing: string[] = [];
  const value = template.replace(VARIABLE, (_match, name: string, fallback: string | undefined) => {
    const set = env[name];
    if (set !== undefined && set !== '') return set;
    if (fallback !== undefined) return fallback;
    missing.push(name);
    return '';
  });
  if (missing.length > 0) {
    throw new ConfigError(
      'CONFIG_INVALID',
      `${path} needs ${missing.join(', ')}, which ${missing.length === 1 ? 'is' : 'are'} not set`,
      { hint: `set ${missing.join(' and ')} in the environment (a GitLab group variable in CI)` },
    );
  }
  return value;
}

export function imageRepository(config: ShipwayConfig, env: Readonly<Record<string, string | undefined>>): string {
  const repository = expandVariables(config.image.repository, env, 'image.repository');
  if (!isValidRepository(repository)) {
    throw new ConfigError(
      'CONFIG_INVALID',
      `image.repository expands to ${JSON.stringify(repository)}, which is not a valid repository`,
    );
  }
  return repository;
}

export function findEnvironment(config: ShipwayConfig, name: string): EnvironmentConfig | undefined {
  return config.environments.find((env) => env.name === name);
}
