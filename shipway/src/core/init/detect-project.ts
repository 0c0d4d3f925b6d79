import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { isAppSource } from '../image/app-sources.js';
import type { Detected, ProjectFacts, RepositorySnapshot } from './init-facts.js';
import { parseRemote } from './parse-remote.js';
import { sanitizeAppName } from './sanitize-app-name.js';

/** The Node.js version the generated pipeline and Dockerfile use when the repository names none. */
export const DEFAULT_NODE_VERSION = '24.11.1';
/** The port assumed when the source shows none (the original service's). */
export const DEFAULT_PORT = 8080;

// package.json is outside data: parsed at the edge, only the fields init reads.
const packageSchema = z.looseObject({
  name: z.string().optional(),
  main: z.string().optional(),
  scripts: z.record(z.string(), z.string()).optional(),
  dependencies: z.record(z.string(), z.string()).optional(),
});
type PackageJson = z.infer<typeof packageSchema>;

/** npm init's test script, which fails on purpose: not a test suite. */
const NPM_PLACEHOLDER_TEST = /no test specified/;

function parsePackageJson(text: string | undefined): PackageJson {
  if (text === undefined)
    throw new ConfigError(
      'INIT_NO_PACKAGE',
      'no package.json in this directory: shipway init sets up a Node.js service',
      { hint: 'run shipway init at the root of the service repository (npm init creates a package.json)' },
    );
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(
      'INIT_BAD_PACKAGE',
      `package.json is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error, hint: 'fix package.json (npm install would refuse it too)' },
    );
  }
  const parsed = packageSchema.safeParse(value);
  if (!parsed.success)
    throw new ConfigError('INIT_BAD_PACKAGE', 'package.json is invalid', {
      problems: parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`),
      hint: 'name, main and scripts must be strings',
    });
  return parsed.data;
}

/** `node [node flags] <file> [args]` with nothing a shell would interpret; else undefined. */
function nodeCommand(script: string): { entry: string; args: string[] } | undefined {
  if (/[|&;<>()$`\\"'*?]/.test(script)) return undefined;
  const words = script.trim().split(/\s+/);
  if (words[0] !== 'node') return undefined;
  const at = words.findIndex((word, index) => index > 0 && !word.startsWith('-'));
  if (at < 0) return undefined;
  return { entry: (words[at] ?? '').replace(/^\.\//, ''), args: words.slice(at + 1) };
}

function detectStart(pkg: PackageJson, files: ReadonlySet<string>): ProjectFacts['start'] {
  const start = pkg.scripts?.start;
  const fromStart = start === undefined ? undefined : nodeCommand(start);
  if (fromStart !== undefined) return { value: fromStart, source: `package.json scripts.start (${start})` };
  if (pkg.main !== undefined)
    return { value: { entry: pkg.main.replace(/^\.\//, ''), args: [] }, source: 'package.json main' };
  for (const name of ['index.js', 'server.js'])
    if (files.has(name)) return { value: { entry: name, args: [] }, source: `${name} (no start script or main)` };
  throw new ConfigError('INIT_NO_START', 'cannot tell how this service starts', {
    hint: 'add "start": "node <file>" to package.json scripts (or "main"), then run shipway init again',
  });
}

/** The first match of each pattern, in order of how directly it names the listening port. */
const PORT_PATTERNS: readonly { readonly pattern: RegExp; readonly what: string }[] = [
  { pattern: /\bPORT\s*(\?\?|\|\|)\s*['"`]?(\d{1,5})\b/, what: 'PORT $1 $2' },
  { pattern: /\.listen\(\s*(\d{1,5})\b/, what: 'listen($1)' },
  { pattern: /\.listen\(\s*\{[^}]*?\bport\s*:\s*(\d{1,5})\b/, what: 'listen({ port: $1 })' },
  { pattern: /\b(?:const|let|var)\s+PORT\s*=\s*['"`]?(\d{1,5})\b/i, what: 'PORT = $1' },
];

function detectPort(sources: RepositorySnapshot['sources']): Detected<number> | null {
  for (const { pattern, what } of PORT_PATTERNS)
    for (const file of sources) {
      const match = pattern.exec(file.text);
      if (match === null) continue;
      const digits = match[match.length - 1] ?? '';
      const port = Number(digits);
      if (port < 1 || port > 65535) continue;
      const shown = what.replace(/\$(\d)/g, (_all, index: string) => match[Number(index)] ?? '');
      return { value: port, source: `${file.path}: ${shown}` };
    }
  return null;
}

function detectHealth(sources: RepositorySnapshot['sources']): ProjectFacts['health'] {
  const route = (names: readonly string[]) => {
    for (const name of names)
      for (const file of sources)
        if (new RegExp(`['"\`]/${name}['"\`]`).test(file.text)) return { path: `/${name}`, file: file.path };
    return undefined;
  };
  const live = route(['healthz', 'health', 'livez']);
  const ready = route(['readyz', 'ready']);
  if (live === undefined && ready === undefined)
    return {
      value: { liveness: '/', readiness: '/' },
      source: 'no /healthz, /health or /readyz route found: probing /',
    };
  const liveness = live?.path ?? ready?.path ?? '/';
  const readiness = ready?.path ?? liveness;
  return { value: { liveness, readiness }, source: [...new Set([live?.file, ready?.file])].filter(Boolean).join(', ') };
}

function outDir(tsconfig: string | undefined): string | undefined {
  // tsconfig.json allows comments, so no JSON.parse: the one field init needs.
  const match = tsconfig === undefined ? null : /"outDir"\s*:\s*"([^"]+)"/.exec(tsconfig);
  const dir = match?.[1]?.replace(/^\.\//, '').replace(/\/+$/, '');
  return dir === undefined || dir === '' || dir.startsWith('..') || dir.startsWith('/') ? undefined : dir;
}

function buildInputs(snapshot: RepositorySnapshot, build: boolean, output: string): string[] {
  const names = snapshot.entries.map((entry) => entry.name);
  const always = ['package.json', 'package-lock.json'];
  if (!build) return [...new Set([...always, ...names.filter(isAppSource)])].sort();
  // A build compiles sources into `output`; what defines the image is the sources and the
  // compiler's config, not the output or the tests.
  const sources = names.filter(
    (name) =>
      name !== output &&
      isAppSource(name) &&
      (/^tsconfig.*\.json$/.test(name) ||
        /\.[cm]?[jt]s$/.test(name) ||
        ['src', 'lib', 'app', 'views', 'public'].includes(name)),
  );
  return [...new Set([...always, ...sources])].sort();
}

function detectNodeVersion(file: string | undefined): Detected<string> {
  const text = file?.trim().replace(/^v/, '');
  if (text !== undefined && /^\d+\.\d+\.\d+$/.test(text)) return { value: text, source: '.nvmrc / .node-version' };
  return {
    value: DEFAULT_NODE_VERSION,
    source: 'the current Node.js LTS (no exact version in .nvmrc / .node-version)',
  };
}

/** Reads what can be known about the service from its files; asks nothing, writes nothing. */
export function detectProject(snapshot: RepositorySnapshot): ProjectFacts {
  const pkg = parsePackageJson(snapshot.packageJson);
  const files = new Set(snapshot.entries.filter((entry) => entry.kind === 'file').map((entry) => entry.name));
  const start = detectStart(pkg, files);
  const buildScript = pkg.scripts?.build;
  const build = buildScript === undefined ? null : { value: buildScript, source: 'package.json scripts.build' };
  const firstDir = start.value.entry.includes('/') ? start.value.entry.split('/')[0] : undefined;
  const output = build === null ? '.' : (outDir(snapshot.tsconfig) ?? firstDir ?? 'dist');
  const fromName = sanitizeAppName(pkg.name ?? '');
  const fromDir = sanitizeAppName(snapshot.directoryName);
  const app =
    fromName !== undefined
      ? { value: fromName, source: `package.json name ${JSON.stringify(pkg.name)}` }
      : { value: fromDir ?? '', source: `the directory name ${JSON.stringify(snapshot.directoryName)}` };
  const remote = snapshot.remoteUrl === undefined ? undefined : parseRemote(snapshot.remoteUrl);
  return {
    app,
    packageName: pkg.name ?? '',
    start,
    main: pkg.main,
    build,
    test: pkg.scripts?.test !== undefined && !NPM_PLACEHOLDER_TEST.test(pkg.scripts.test),
    port: detectPort(snapshot.sources),
    health: detectHealth(snapshot.sources),
    lockfile: files.has('package-lock.json'),
    output,
    inputs: buildInputs(snapshot, build !== null, output),
    nodeVersion: detectNodeVersion(snapshot.nodeVersionFile),
    repoUrl: remote?.url ?? null,
    remoteHadCredentials: remote?.hadCredentials === true,
    projectPath: remote?.projectPath ?? null,
  };
}
