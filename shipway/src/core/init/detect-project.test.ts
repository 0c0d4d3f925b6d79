import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ConfigError } from '../errors.js';
import { detectProject } from './detect-project.js';
import type { RepositorySnapshot } from './init-facts.js';
import { parseRemote } from './parse-remote.js';
import { renderInitFiles } from './plan-init.js';
import { resolveSettings } from './resolve-settings.js';
import { sanitizeAppName } from './sanitize-app-name.js';
import { yamlScalar } from './yaml-scalar.js';

function snapshot(overrides: Partial<RepositorySnapshot> & { pkg?: object } = {}): RepositorySnapshot {
  const { pkg, ...rest } = overrides;
  return {
    packageJson: JSON.stringify(pkg ?? { name: 'svc', scripts: { start: 'node index.js' } }),
    entries: [
      { name: 'package.json', kind: 'file' },
      { name: 'index.js', kind: 'file' },
    ],
    sources: [],
    tsconfig: undefined,
    nodeVersionFile: undefined,
    remoteUrl: undefined,
    directoryName: 'svc',
    ...rest,
  };
}

const source = (text: string, path = 'index.js') => ({ sources: [{ path, text }] });

describe('sanitizeAppName: an npm name as an RFC 1035 label', () => {
  it.each([
    ['hello', 'hello'],
    ['@team/My_Service.v2', 'my-service-v2'],
    ['123-start', 'start'],
    ['--x--', 'x'],
    ['a'.repeat(80), 'a'.repeat(50)],
    ['___', undefined],
    ['@scope/', undefined],
    ['Ünïcode', 'n-code'],
  ])('%j → %j', (raw, label) => expect(sanitizeAppName(raw)).toBe(label));
});

describe('parseRemote: what Argo CD may read, never a credential', () => {
  it.each([
    [
      'https://user:glpat-secret@gitlab.example.com/team/svc.git',
      'https://gitlab.example.com/team/svc.git',
      true,
      'team/svc',
    ],
    ['https://gitlab.example.com/a/b/svc', 'https://gitlab.example.com/a/b/svc', false, 'a/b/svc'],
    ['git@gitlab.example.com:team/svc.git', 'git@gitlab.example.com:team/svc.git', false, 'team/svc'],
    ['deploy:tok@gitlab.example.com:team/svc.git', 'deploy@gitlab.example.com:team/svc.git', true, 'team/svc'],
    [
      'ssh://git@gitlab.example.com:2222/team/svc.git',
      'ssh://git@gitlab.example.com:2222/team/svc.git',
      false,
      'team/svc',
    ],
  ])('%s', (remote, url, hadCredentials, projectPath) =>
    expect(parseRemote(remote)).toEqual({ url, hadCredentials, projectPath }),
  );

  it('a local path is no URL for Argo CD', () => {
    expect(parseRemote('/srv/git/svc.git')).toBeUndefined();
    expect(parseRemote('../svc.git')).toBeUndefined();
  });
});

describe('detectProject', () => {
  it.each([
    ['app.listen(8080);', 8080, 'index.js: listen(8080)'],
    ['const port = Number(process.env.PORT ?? 3000);', 3000, 'index.js: PORT ?? 3000'],
    ["const port = parseInt(process.env.PORT || '4000', 10);", 4000, 'index.js: PORT || 4000'],
    ['await app.listen({ host: "0.0.0.0", port: 5000 });', 5000, 'index.js: listen({ port: 5000 })'],
    ['const PORT = 7000;\napp.listen(PORT);', 7000, 'index.js: PORT = 7000'],
  ])('finds the port in %j', (text, port, where) => {
    expect(detectProject(snapshot(source(text))).port).toEqual({ value: port, source: where });
  });

  it('PORT ?? <n> wins over a literal listen(<n>) elsewhere, and an impossible port is no port', () => {
    const facts = detectProject(
      snapshot({
        sources: [
          { path: 'a.js', text: 'server.listen(9999)' },
          { path: 'b.js', text: 'const port = process.env.PORT ?? 3000' },
        ],
      }),
    );
    expect(facts.port?.value).toBe(3000);
    expect(detectProject(snapshot(source('app.listen(99999)'))).port).toBeNull();
  });

  it('finds health routes, else probes /', () => {
    const both = detectProject(snapshot(source('app.get(\'/healthz\', ok); app.get("/readyz", ready);')));
    expect(both.health.value).toEqual({ liveness: '/healthz', readiness: '/readyz' });
    expect(detectProject(snapshot(source('app.get(`/health`, ok)'))).health.value).toEqual({
      liveness: '/health',
      readiness: '/health',
    });
    expect(detectProject(snapshot(source("app.get('/healthzz', ok)"))).health.value).toEqual({
      liveness: '/',
      readiness: '/',
    });
  });

  it('reads the start command: scripts.start, then main, then index.js', () => {
    const start = (pkg: object) => detectProject(snapshot({ pkg })).start.value;
    expect(start({ scripts: { start: 'node --enable-source-maps dist/server.js --quiet' } })).toEqual({
      entry: 'dist/server.js',
      args: ['--quiet'],
    });
    expect(start({ main: './app.js', scripts: { start: 'node app.js && echo done' } })).toEqual({
      entry: 'app.js',
      args: [],
    });
    expect(start({})).toEqual({ entry: 'index.js', args: [] });
  });

  it('a build script means an output directory (tsconfig outDir, else the start entry’s) and source inputs', () => {
    const facts = detectProject(
      snapshot({
        pkg: { name: 'api', scripts: { build: 'tsc', start: 'node build/server.js', test: 'vitest run' } },
        entries: ['package.json', 'tsconfig.json', 'src', 'build', 'test', 'README.md', '.env'].map((name) => ({
          name,
          kind: name.includes('.') ? ('file' as const) : ('directory' as const),
        })),
        tsconfig: '{ // comments are allowed\n "compilerOptions": { "outDir": "./build/" } }',
      }),
    );
    expect(facts.output).toBe('build');
    expect(facts.inputs).toEqual(['package-lock.json', 'package.json', 'src', 'tsconfig.json']);
    expect(facts.test).toBe(true);
  });

  it('no build script: the image ships the sources, so every app source is an input, never a dotfile', () => {
    const facts = detectProject(
      snapshot({
        pkg: { name: 'svc', scripts: { start: 'node index.js', test: 'echo "Error: no test specified" && exit 1' } },
        entries: ['package.json', 'index.js', 'routes', 'node_modules', '.env', 'deployment', 'shipway.yaml'].map(
          (name) => ({ name, kind: 'file' as const }),
        ),
      }),
    );
    expect(facts.output).toBe('.');
    expect(facts.inputs).toEqual(['index.js', 'package-lock.json', 'package.json', 'routes']);
    expect(facts.test).toBe(false);
  });

  it('package.json that is not JSON, or has the wrong types, is a config error naming the problem', () => {
    expect(() => detectProject(snapshot({ packageJson: '{ "name": ' }))).toThrow(/package.json is not valid JSON/);
    try {
      detectProject(snapshot({ pkg: { name: 5, scripts: ['x'] } }));
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems).toEqual([
        'name: Invalid input: expected string, received number',
        'scripts: Invalid input: expected record, received array',
      ]);
    }
  });
});

describe('rendered files', () => {
  it('yamlScalar keeps hostile text one scalar', () => {
    for (const text of ['a: b', '- x', 'x\nkey: y', '"', 'true', '0x1F', '{a}', '#c', '*anchor', 'ok/path.yml'])
      expect(parseAllDocuments(`value: ${yamlScalar(text)}\n`).map((doc) => doc.toJS())).toEqual([{ value: text }]);
  });

  it('every file is YAML with no errors, and a hostile repoURL or input name stays a string', () => {
    const facts = detectProject(
      snapshot({
        entries: [{ name: 'evil\nkey: injected.js', kind: 'file' }, ...snapshot().entries],
        remoteUrl: 'https://gitlab.example.com/team/svc.git#"\nspec: {}',
      }),
    );
    const { settings } = resolveSettings(facts, { canary: true, dockerfile: true }, '0.1.0');
    for (const file of renderInitFiles(settings).filter(
      (entry) => entry.path.endsWith('.yaml') || entry.path.endsWith('.yml'),
    ))
      for (const doc of parseAllDocuments(file.content)) expect([file.path, doc.errors]).toEqual([file.path, []]);
    const config = parseAllDocuments(renderInitFiles(settings)[0]?.content ?? '')[0]?.toJS();
    expect(config.build.inputs).toContain('evil\nkey: injected.js');
    expect(Object.keys(config)).toEqual(['app', 'image', 'build', 'git', 'environments']);
  });
});
