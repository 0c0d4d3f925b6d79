import type { z } from 'zod';
import type { JsonAnswer } from '../adapters/kubernetes/get-json.js';
import { ExternalError } from '../core/errors.js';
import type { AppRegistration, EnvironmentState } from '../local/cluster/embedded-cluster.js';
import type { ClusterAccess } from './cluster-access.js';
import { clusterAppsSchema, clusterStatusSchema } from './cluster-answers.js';

export interface EnvironmentSummary {
  readonly environment: string;
  readonly url: string;
  readonly image: string | null;
  readonly digest: string | null;
  readonly phase: string;
  readonly message: string;
}

/** The embedded cluster's per-environment state (every app's) from its API; `hint` says how to bring it back. */
export async function fetchClusterStatus(access: ClusterAccess, hint: string): Promise<EnvironmentState[]> {
  return fetchShipway(access, '/shipway/v1/status', hint, clusterStatusSchema);
}

/** The apps the cluster follows, and the records it refused, with why. */
export async function fetchClusterApps(access: ClusterAccess, hint: string): Promise<AppRegistration[]> {
  return fetchShipway(access, '/shipway/v1/apps', hint, clusterAppsSchema);
}

async function fetchShipway<T>(access: ClusterAccess, path: string, hint: string, schema: z.ZodType<T>): Promise<T> {
  const { api } = access;
  let response: JsonAnswer;
  try {
    response = await access.get(path, 5000);
  } catch (error) {
    throw new ExternalError('CLUSTER_DOWN', `the embedded cluster at ${api} does not answer`, { cause: error, hint });
  }
  if (response.body === undefined)
    throw new ExternalError(
      'CLUSTER_PROTOCOL',
      `the embedded cluster at ${api} answered ${path} with HTTP ${response.status} and something not JSON: ${JSON.stringify(response.text ?? '')}`,
      { hint: `is ${api} the embedded cluster, or something else listening on its port? ${hint}` },
    );
  if (response.status === 401)
    throw new ExternalError('CLUSTER_UNAUTHORIZED', `the embedded cluster at ${api} refused its kubeconfig's token`, {
      hint: 'the kubeconfig in the state dir is from another start of the cluster: restart it (`shipway cluster down`, then `shipway cluster up`)',
    });
  if (response.status !== 200)
    throw new ExternalError('CLUSTER_ERROR', `the embedded cluster at ${api} answered HTTP ${response.status}`, {
      hint,
    });
  const parsed = schema.safeParse(response.body);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.map(String).join('.') || '(body)'}: ${issue.message}`);
  throw new ExternalError(
    'CLUSTER_PROTOCOL',
    `the embedded cluster at ${api} answered ${path} with a body shipway cannot read: ${problems.join('; ')}`,
    {
      hint: 'a cluster from another shipway version may be running: restart it (`shipway cluster down`, then `shipway cluster up`)',
    },
  );
}

const RESTART_HINT = 'it may have been stopped (`shipway cluster down`); the next `shipway run` starts it again';

/**
 * Each environment of `app` (every app's when undefined) as the embedded cluster runs it, once
 * it has settled: synced to its branch's latest commit (`heads`, by environment) and no rollout
 * in progress (a canary waiting at a pause counts as settled). URL, image digest, phase.
 */
export async function environmentSummary(
  access: ClusterAccess,
  heads: Readonly<Record<string, string>> = {},
  settleMs = 60_000,
  app?: string,
): Promise<EnvironmentSummary[]> {
  const fetchMine = async () =>
    (await fetchClusterStatus(access, RESTART_HINT)).filter((state) => app === undefined || state.app === app);
  const settled = (state: EnvironmentState) =>
    state.rollout?.phase !== 'Progressing' &&
    (heads[state.environment] === undefined || state.sync?.revision === heads[state.environment]);
  let states = await fetchMine();
  for (const deadline = Date.now() + settleMs; Date.now() < deadline; ) {
    if (states.every(settled)) break;
    await new Promise((done) => setTimeout(done, 250));
    states = await fetchMine();
  }
  return states.map((state) => {
    const image = state.rollout?.canary.image ?? null;
    return {
      environment: state.environment,
      url: state.url,
      image,
      digest: image?.split('@')[1] ?? null,
      phase: state.rollout?.phase ?? 'NotSynced',
      message: state.rollout?.message ?? '',
    };
  });
}
