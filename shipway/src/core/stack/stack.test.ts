import { describe, expect, it } from 'vitest';
import { parseShipwayConfig } from '../config/shipway-config.js';
import { ConfigError } from '../errors.js';
import { type AppRecord, admitApps, appRecordOf, planRegistration } from './app-record.js';
import { projectIdentity, projectKey } from './project-key.js';
import { stackPaths } from './stack-paths.js';

describe('stackPaths: one state directory per user', () => {
  it('SHIPWAY_HOME, else $XDG_STATE_HOME/shipway, else ~/.local/state/shipway', () => {
    expect(stackPaths({ SHIPWAY_HOME: '/srv/stack', XDG_STATE_HOME: '/x' }, '/home/me')).toMatchObject({
      home: '/srv/stack',
      from: 'SHIPWAY_HOME',
      cluster: '/srv/stack/cluster',
      registry: '/srv/stack/registry',
      gitlab: '/srv/stack/gitlab',
      kubeconfig: '/srv/stack/cluster/kubeconfig',
    });
    expect(stackPaths({ XDG_STATE_HOME: '/state' }, '/home/me').home).toBe('/state/shipway');
    expect(stackPaths({}, '/home/me').home).toBe('/home/me/.local/state/shipway');
    expect(stackPaths({ SHIPWAY_HOME: '' }, '/home/me').from).toBe('HOME');
  });

  it('a relative XDG_STATE_HOME is ignored (XDG Base Directory spec); a relative SHIPWAY_HOME is refused', () => {
    expect(stackPaths({ XDG_STATE_HOME: 'state' }, '/home/me').home).toBe('/home/me/.local/state/shipway');
    expect(() => stackPaths({ SHIPWAY_HOME: 'stack' }, '/home/me')).toThrow(ConfigError);
  });
});

describe('projectKey: clones of one project share a key, two projects never do', () => {
  const key = (origin: string | undefined, checkout = '/src/a') =>
    projectKey('hello', projectIdentity(origin, checkout));

  it('HTTPS and SSH clones of one GitLab project, with or without credentials, .git or case', () => {
    const https = key('https://gitlab.example.com/team/hello.git', '/src/a');
    expect(key('git@gitlab.example.com:team/hello.git', '/src/b')).toBe(https);
    expect(key('ssh://git@gitlab.example.com:2222/team/hello', '/src/c')).toBe(https);
    expect(key('https://oauth2:glpat-secret@GitLab.example.com/Team/Hello.git/')).toBe(https);
    expect(https).toMatch(/^hello-[0-9a-f]{12}$/);
  });

  it('different projects, hosts, paths, or checkouts without origin: different keys', () => {
    const keys = [
      key('https://gitlab.example.com/team/hello.git'),
      key('https://gitlab.example.com/other/hello.git'),
      key('https://gitlab.other.com/team/hello.git'),
      key('/srv/git/hello.git'),
      key('/srv/git/other.git'),
      key(undefined, '/src/a'),
      key(undefined, '/src/b'),
    ];
    expect(new Set(keys).size).toBe(keys.length);
    // The same path clone shares, too.
    expect(key('/srv/git/hello.git', '/src/x')).toBe(key('/srv/git/hello.git', '/src/y'));
  });

  it('the key is a safe file name even for a long app name', () => {
    expect(projectKey('a'.repeat(300), 'x')).toMatch(/^a{100}-[0-9a-f]{12}$/);
  });
});

const config = (app: string, namespaces: readonly string[]) =>
  parseShipwayConfig(
    [
      `app: ${app}`,
      'image: { name: svc, repository: r }',
      'build: { inputs: [src] }',
      'environments:',
      ...namespaces.map(
        (namespace, index) =>
          `  - { name: e${index}, branch: b${index}, overlay: d/${index}, namespace: ${namespace} }`,
      ),
    ].join('\n'),
  );
const record = (app: string, namespaces: readonly string[], at: string, key = `${app}-000000000000`): AppRecord =>
  appRecordOf(config(app, namespaces), { key, remote: `/git/${key}.git`, checkout: `/src/${app}`, registeredAt: at });

describe('admitApps: each app name and namespace belongs to one app of the stack', () => {
  const a = record('a', ['a-dev', 'a-prod'], '2026-01-01T00:00:00Z');
  const b = record('b', ['b-dev'], '2026-01-02T00:00:00Z');

  it('apps with their own names and namespaces are all followed, the rollout name defaulting to the app', () => {
    expect(admitApps([b, a]).admitted).toEqual([a, b]);
    expect(a.environments[0]).toMatchObject({ namespace: 'a-dev', rollout: 'a' });
  });

  it('a later app that wants a namespace of another is refused, however it is named', () => {
    // "An app named like another's namespace": app a-prod, whose environment namespace is a-prod.
    const squatter = record('a-prod', ['a-prod'], '2026-01-03T00:00:00Z');
    const { admitted, refused } = admitApps([squatter, a, b]);
    expect(admitted).toEqual([a, b]);
    expect(refused).toEqual([
      expect.objectContaining({
        key: squatter.key,
        code: 'NAMESPACE_TAKEN',
        reason: "namespace a-prod (environment e0 of app a-prod) is not permitted: it is app a's (environment e1)",
      }),
    ]);
  });

  it('the same app name from another project is refused', () => {
    const twin = record('a', ['other-dev'], '2026-01-03T00:00:00Z', 'a-111111111111');
    expect(admitApps([a, twin]).refused).toEqual([expect.objectContaining({ key: twin.key, code: 'APP_NAME_TAKEN' })]);
  });

  it('an app already followed keeps its namespaces even against an earlier registration (sticky)', () => {
    const early = record('c', ['b-dev'], '2025-01-01T00:00:00Z');
    expect(admitApps([early, b], new Set([b.key])).admitted).toEqual([b]);
    expect(admitApps([early, b]).admitted).toEqual([early]);
  });

  it('planRegistration: re-registering an app replaces its own record; a collision is refused', () => {
    expect(planRegistration([a, b], { ...a, remote: '/elsewhere.git' })).toBeUndefined();
    expect(planRegistration([a, b], record('d', ['b-dev'], '2027-01-01T00:00:00Z'))).toMatchObject({
      code: 'NAMESPACE_TAKEN',
    });
  });
});
