import { type EnvironmentConfig, findEnvironment, type ShipwayConfig } from '../core/config/shipway-config.js';
import { UsageError } from '../core/errors.js';

export function requireEnvironment(config: ShipwayConfig, name: string): EnvironmentConfig {
  const env = findEnvironment(config, name);
  if (env !== undefined) return env;
  throw new UsageError('ENV_UNKNOWN', `unknown environment ${JSON.stringify(name)}`, {
    hint: `shipway.yaml defines ${config.environments.map((candidate) => candidate.name).join(', ')}`,
  });
}
