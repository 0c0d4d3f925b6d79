import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { dirname, join, posix, relative } from 'node:path';
import { ConfigError } from '../../core/errors.js';
import { isAppSource } from '../../core/image/app-sources.js';
import type { InputFile } from '../../core/image/input-hash.js';
import { type Lockfile, productionClosure } from '../../core/image/lockfile-closure.js';
import { directoryEntries } from './host-files.js';
import type { LayerEntry } from './tar-layer.js';

const APP = 'app';

/**
 * The production node_modules of a workspace package, flattened under `<into>/node_modules`
 * (/app for a service), and a cache key.
 */
export async function dependencyLayer(
  root: string,
  context: string,
  into: string = APP,
): Promise<{ key: string; entries: () => Promise<LayerEntry[]> }> {
  let lock: Lockfile;
  try {
    lock = JSON.parse(await readFile(join(root, 'package-lock.json'), 'utf8')) as Lockfile;
  } catch (error) {
    throw new ConfigError('CONFIG_INVALID', 'cannot read package-lock.json at the repository root', {
      cause: error,
      hint: 'run npm install and commit the lockfile',
    });
  }
  const workspace = context === '.' ? '' : context;
  const closure = productionClosure(lock, workspace);
  if (!closure.ok)
    throw new ConfigError('CONFIG_INVALID', `package-lock.json does not resolve ${closure.missing}`, {
      hint: 'run npm install',
    });
  const placed = new Map<string, string>();
  for (const path of closure.paths) {
    const inImage = `${into}/${workspace !== '' && path.startsWith(`${workspace}/`) ? path.slice(workspace.length + 1) : path}`;
    const other = placed.get(inImage);
    if (other !== undefined)
      throw new ConfigError('CONFIG_INVALID', `${path} and ${other} would both be ${inImage} in the image`, {
        hint: 'dedupe the lockfile (npm dedupe)',
      });
    placed.set(inImage, path);
  }
  const packages = lock.packages ?? {};
  const key = [
    ...(into === APP ? [] : [into]),
    ...closure.paths.map((path) => `${path}@${packages[path]?.version ?? '?'}`),
  ].join('\n');
  return {
    key,
    entries: async () => {
      const entries: LayerEntry[] = [];
      for (const [inImage, path] of placed) {
        entries.push(...(await directoryEntries(join(root, path), inImage, (name) => name === 'node_modules')));
      }
      return entries;
    },
  };
}

/** The compiled app: <context>/package.json and <context>/<output>/** under /app. */
export async function appEntries(root: string, context: string, output: string): Promise<LayerEntry[]> {
  const base = join(root, context);
  const skip = (name: string) => name.endsWith('.tsbuildinfo') || name.endsWith('.d.ts') || name.endsWith('.d.ts.map');
  const packageJson = join(base, 'package.json');
  const info = await lstat(packageJson).catch(() => undefined);
  if (info === undefined)
    throw new ConfigError('CONFIG_INVALID', `no package.json in ${context}`, {
      hint: 'set build.context in shipway.yaml to the service package',
    });
  // No build step (build.output "."): the app is the package directory itself, minus what is never
  // part of it (core/image/app-sources.ts); package.json is among what it ships.
  if (posix.normalize(output) === '.')
    return directoryEntries(base, APP, (name, path) => skip(name) || (dirname(path) === base && !isAppSource(name)));
  const dist = await directoryEntries(join(base, output), `${APP}/${output}`, skip).catch((error: unknown) => {
    throw new ConfigError('CONFIG_INVALID', `${join(context, output)} does not exist`, {
      cause: error,
      hint: 'the build script must compile into build.output',
    });
  });
  return [
    { path: `${APP}/package.json`, type: 'file', source: packageJson, size: info.size, executable: false },
    ...dist,
  ];
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Every file under the build inputs, with its content hash, for the input tag. */
export async function collectInputs(root: string, inputs: readonly string[]): Promise<InputFile[]> {
  const files: InputFile[] = [];
  const visit = async (path: string): Promise<void> => {
    const info = await lstat(path).catch(() => undefined);
    if (info === undefined)
      throw new ConfigError('CONFIG_INVALID', `build input ${relative(root, path)} does not exist`, {
        hint: 'fix build.inputs in shipway.yaml',
      });
    if (info.isDirectory()) {
      for (const name of (await readdir(path)).sort())
        if (name !== 'node_modules' && name !== '.git') await visit(join(path, name));
    } else if (info.isFile()) {
      files.push({ path: relative(root, path), executable: (info.mode & 0o111) !== 0, sha256: await sha256File(path) });
    }
  };
  for (const input of inputs) await visit(join(root, input));
  return files;
}
