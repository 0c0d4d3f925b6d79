import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));

const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

/**
 * A global npm prefix holding the running shipway the way the tool image holds its own:
 * `<dir>/bin/shipway` (a shim that runs this CLI with this Node) and
 * `<dir>/lib/node_modules/shipway` (this package). A job in the tool image gets `<dir>/bin` first
 * on PATH and `npm_config_prefix=<dir>`, so `shipway …` runs this shipway, and so does
 * `npx shipway …`: npx looks in the global prefix before it would fetch a package from the
 * registry (libnpmexec: local bins, then `globalBin`, then an install).
 */
export function toolPrefix(dir: string): string {
  const bin = join(dir, 'bin', 'shipway');
  if (existsSync(bin)) return dir;
  mkdirSync(join(dir, 'bin'), { recursive: true });
  mkdirSync(join(dir, 'lib', 'node_modules'), { recursive: true });
  rmSync(join(dir, 'lib', 'node_modules', 'shipway'), { force: true });
  symlinkSync(PACKAGE, join(dir, 'lib', 'node_modules', 'shipway'));
  writeFileSync(bin, `#!/bin/sh\nexec ${quote(process.execPath)} ${quote(MAIN)} "$@"\n`, { mode: 0o755 });
  return dir;
}
