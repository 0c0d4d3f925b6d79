import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseShipwayConfig, type ShipwayConfig } from '../core/config/shipway-config.js';
import { ConfigError } from '../core/errors.js';
import type { AppContext } from './context.js';

export const CONFIG_FILE = 'shipway.yaml';

export async function loadShipwayConfig(context: AppContext, file = CONFIG_FILE): Promise<ShipwayConfig> {
  const path = resolve(context.cwd, file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError('CONFIG_INVALID', `cannot read ${file}`, {
      cause: error,
      hint: 'run shipway from the repository root, or pass --config <file>',
    });
  }
  return parseShipwayConfig(text, file);
}
