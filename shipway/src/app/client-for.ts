import { RegistryClient } from '../adapters/registry/registry-client.js';
import { registryCredentials } from '../adapters/registry/registry-credentials.js';
import type { AppContext } from './context.js';

/** A client for `registry` with the credentials this environment holds for it (registry-credentials). */
export async function clientFor(context: AppContext, registry: string): Promise<RegistryClient> {
  return new RegistryClient(registry, { credentials: await registryCredentials(registry, context.env) });
}
