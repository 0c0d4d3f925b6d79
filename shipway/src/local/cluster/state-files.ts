import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import type { ProcessIdentity } from '../../adapters/process/process-stat.js';
import { ExternalError } from '../../core/errors.js';

/** What `cluster up` writes in its state dir: the cluster's address and URLs, and the registry's. */
export const CLUSTER_FILE = 'cluster.json';
export const REGISTRY_FILE = 'registry.json';

/** cluster.json: the process serving the cluster, its API, and each followed app's environment URLs. */
export interface ClusterInfo {
  readonly pid: number;
  /** Tells the cluster process apart from a later one reusing its pid (Linux; absent elsewhere). */
  readonly process?: ProcessIdentity | undefined;
  readonly api: string;
  /** The primary app's environment URLs (empty when `cluster up` ran outside a repository). */
  readonly urls: Record<string, string>;
  /** Every followed app's environment URLs, by app; stable across restarts while the ports are free. */
  readonly apps: Record<string, Record<string, string>>;
}

const urlsSchema = z.record(z.string(), z.string());

const clusterInfoSchema = z.object({
  pid: z.number().int().min(1),
  process: z.object({ startTime: z.string(), bootId: z.string() }).optional(),
  api: z.url({ protocol: /^https?$/ }),
  // Files written before shipway followed several apps have no `apps` (and may lack `urls`).
  urls: urlsSchema.default({}),
  apps: z.record(z.string(), urlsSchema).default({}),
});

/** The embedded registry's address beside the cluster: host:port, as image references name it. */
export interface RegistryInfo {
  readonly url: string;
}

const registryInfoSchema = z.object({
  url: z
    .string()
    .refine((url) => /^[A-Za-z0-9.[\]:-]+:\d{1,5}$/.test(url) && URL.canParse(`http://${url}`), 'expected host:port'),
});

/** cluster.json in `stateDir`; undefined when there is none, an ExternalError when it is not what `cluster up` wrote. */
export function readClusterInfo(stateDir: string): ClusterInfo | undefined {
  return readStateFile(join(stateDir, CLUSTER_FILE), clusterInfoSchema);
}

/** registry.json in `stateDir`; undefined when there is none, an ExternalError when it is not what `cluster up` wrote. */
export function readRegistryInfo(stateDir: string): RegistryInfo | undefined {
  return readStateFile(join(stateDir, REGISTRY_FILE), registryInfoSchema);
}

function readStateFile<T>(path: string, schema: z.ZodType<T>): T | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return undefined;
    throw new ExternalError('STACK_STATE_UNREADABLE', `cannot read ${path}`, { cause: error, hint: hintFor(path) });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ExternalError('STACK_STATE_INVALID', `${path} is not JSON`, { cause: error, hint: hintFor(path) });
  }
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map(
    (issue) => `${issue.path.map(String).join('.') || '(file)'}: ${issue.message}`,
  );
  throw new ExternalError(
    'STACK_STATE_INVALID',
    `${path} is not the state \`cluster up\` writes: ${problems.join('; ')}`,
    {
      hint: hintFor(path),
    },
  );
}

/** `cluster up` writes the file again; a cluster still running would not, so it must stop first. */
function hintFor(path: string): string {
  return `\`shipway cluster up\` writes it: stop any cluster still running in ${dirname(path)} (its pid is in cluster.lock), delete the file, and start the cluster again`;
}
