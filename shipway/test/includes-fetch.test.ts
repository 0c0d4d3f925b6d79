import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeGitLab, startFakeGitLab } from './support/fake-gitlab.js';
import { shipway } from './support/run-shipway.js';

// `shipway includes fetch` against a stand-in for GitLab's REST API on 127.0.0.1, reached
// through the real @gitbeaker/rest client, and plain HTTP for remote includes. Each test names
// the GitLab documentation it follows.

const TOKEN = 'glpat-test-token-0123456789';
const COMMITS = {
  v1: 'a'.repeat(40),
  v12: 'b'.repeat(40),
  rc: 'c'.repeat(40),
  main1: 'd'.repeat(40),
  main2: 'e'.repeat(40),
};

const component = (label: string) => `spec:
  inputs:
    stage:
      default: test
---
include:
  - local: templates/common.yml
"${label}-$[[ inputs.stage ]]":
  stage: $[[ inputs.stage ]]
  extends: .common
`;
const common = (label: string) => `.common:\n  script: [echo ${label}]\n`;

let gitlab: FakeGitLab;
const dirs: string[] = [];
beforeAll(async () => {
  gitlab = await startFakeGitLab({
    'acme/ci': {
      defaultBranch: 'main',
      refs: { '1.0.0': COMMITS.v1, '1.2.0': COMMITS.v12, '2.0.0-rc1': COMMITS.rc, main: COMMITS.main1 },
      releases: ['2.0.0-rc1', '1.2.0', '1.0.0'],
      token: TOKEN,
      files: {
        [COMMITS.v1]: { 'templates/build.yml': component('v1'), 'templates/common.yml': common('v1') },
        [COMMITS.v12]: { 'templates/build/template.yml': component('v12'), 'templates/common.yml': common('v12') },
        [COMMITS.rc]: { 'templates/build.yml': component('rc'), 'templates/common.yml': common('rc') },
        [COMMITS.main1]: { 'ci/lint.yml': 'lint:\n  script: [lint one]\n' },
        [COMMITS.main2]: { 'ci/lint.yml': 'lint:\n  script: [lint two]\n' },
      },
    },
    'gitlab-org/gitlab': {
      defaultBranch: 'master',
      refs: { 'v17.3.1-ee': COMMITS.v1, master: COMMITS.main1 },
      files: {
        [COMMITS.v1]: { 'lib/gitlab/ci/templates/Jobs/Check.gitlab-ci.yml': 'check:\n  script: [check]\n' },
      },
    },
  });
}, 30_000);
afterAll(async () => {
  await gitlab?.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A repository at <temp>/repo with this .gitlab-ci.yml; <temp> is outside it. */
function project(ci: string): { repo: string; outside: string } {
  const outside = mkdtempSync(join(tmpdir(), 'shipway-fetch-'));
  dirs.push(outside);
  const repo = join(outside, 'repo');
  mkdirSync(repo);
  writeFileSync(join(repo, '.gitlab-ci.yml'), ci);
  return { repo, outside };
}

const sri = (text: string) => `sha256-${createHash('sha256').update(text).digest('base64')}`;
function fetch(repo: string, ...args: string[]) {
  return shipway(repo, ['includes', 'fetch', '--server', gitlab.url, '--template-server', gitlab.url, ...args], {
    GITLAB_TOKEN: TOKEN,
  });
}

describe('shipway includes fetch (docs: ci/yaml/_index.md "include", ci/components "Component versions")', () => {
  it('component ~latest → the newest release (not a pre-release), its local include at the same commit, a project file, a remote file with integrity and a template; all pinned; then plan works offline', async () => {
    gitlab.remote.set('ci/remote.yml', 'remote-job:\n  script: [remote]\n');
    const ci = `include:
  - component: $CI_SERVER_FQDN/acme/ci/build@~latest
    inputs:
      stage: build
  - project: acme/ci
    ref: main
    file: /ci/lint.yml
  - remote: ${gitlab.url}/raw/ci/remote.yml
    integrity: ${sri('remote-job:\n  script: [remote]\n')}
  - template: Jobs/Check.gitlab-ci.yml
stages: [build, test]
`;
    const { repo } = project(ci);
    const run = await fetch(repo, '--json');
    expect(run.code, run.stderr).toBe(0);
    const dir = join(repo, '.shipway/includes');
    const host = new URL(gitlab.url).host;
    expect(readFileSync(join(dir, 'projects/acme/ci@~latest/templates/build/template.yml'), 'utf8')).toBe(
      component('v12'),
    );
    expect(readFileSync(join(dir, 'projects/acme/ci@~latest/templates/common.yml'), 'utf8')).toBe(common('v12'));
    expect(readFileSync(join(dir, 'projects/acme/ci@main/ci/lint.yml'), 'utf8')).toContain('lint one');
    expect(readFileSync(join(dir, `remote/${host}/raw/ci/remote.yml`), 'utf8')).toContain('remote-job');
    expect(readFileSync(join(dir, 'templates/Jobs/Check.gitlab-ci.yml'), 'utf8')).toContain('check');
    const lock = JSON.parse(readFileSync(join(dir, 'includes.lock.json'), 'utf8'));
    expect(lock.entries[`component ${host}/acme/ci/build@~latest`]).toMatchObject({
      ref: '~latest',
      version: '1.2.0',
      commit: COMMITS.v12,
      path: 'projects/acme/ci@~latest/templates/build/template.yml',
    });
    expect(lock.entries['project acme/ci@main file /ci/lint.yml']).toMatchObject({
      ref: 'main',
      commit: COMMITS.main1,
    });
    expect(lock.entries['template Jobs/Check.gitlab-ci.yml']).toMatchObject({ ref: 'v17.3.1-ee', commit: COMMITS.v1 });
    expect(JSON.stringify(lock)).not.toContain(TOKEN);
    // The API got the token; the remote host never did.
    expect(
      gitlab.requests.filter((request) => request.path.startsWith('/api/')).every((r) => r.privateToken === TOKEN),
    ).toBe(true);
    expect(gitlab.requests.filter((request) => request.path.startsWith('/raw/'))).toEqual([
      { path: '/raw/ci/remote.yml', privateToken: undefined, jobToken: undefined, authorization: undefined },
    ]);
    const plan = await shipway(repo, ['plan', '--json', '--ref', 'main', '--server', gitlab.url]);
    expect(plan.code, plan.stderr).toBe(0);
    const jobs = JSON.parse(plan.stdout).stages.flatMap((stage: { jobs: { name: string }[] }) =>
      stage.jobs.map((job) => job.name),
    );
    expect(jobs).toEqual(['v12-build', 'lint', 'remote-job', 'check']);
  });

  it('a second run fetches nothing; a deleted file comes back from the pinned commit though the branch moved; --update takes the new commit', async () => {
    const { repo } = project('include:\n  - project: acme/ci\n    ref: main\n    file: ci/lint.yml\n');
    expect((await fetch(repo)).code).toBe(0);
    const again = await fetch(repo);
    expect(again.stdout).toMatch(/^Nothing to fetch/);
    const acme = gitlab.projects.get('acme/ci');
    if (acme === undefined) throw new Error('no acme/ci');
    gitlab.projects.set('acme/ci', { ...acme, refs: { ...acme.refs, main: COMMITS.main2 } });
    try {
      const file = join(repo, '.shipway/includes/projects/acme/ci@main/ci/lint.yml');
      rmSync(file);
      expect((await fetch(repo)).code).toBe(0);
      expect(readFileSync(file, 'utf8')).toContain('lint one');
      const updated = await fetch(repo, '--update');
      expect(updated.code, updated.stderr).toBe(0);
      expect(readFileSync(file, 'utf8')).toContain('lint two');
    } finally {
      gitlab.projects.set('acme/ci', acme);
    }
  });

  it('include:remote integrity that does not match is refused, nothing written (docs: "include:integrity")', async () => {
    gitlab.remote.set('ci/tampered.yml', 'job:\n  script: [evil]\n');
    const { repo } = project(
      `include:\n  - remote: ${gitlab.url}/raw/ci/tampered.yml\n    integrity: ${sri('job:\n  script: [good]\n')}\n`,
    );
    const run = await fetch(repo);
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/integrity check failed/);
    expect(existsSync(join(repo, '.shipway/includes/remote'))).toBe(false);
  });

  it('a pinned remote whose content changed is refused until --update', async () => {
    gitlab.remote.set('ci/moving.yml', 'job:\n  script: [one]\n');
    const { repo } = project(`include:\n  - remote: ${gitlab.url}/raw/ci/moving.yml\n`);
    expect((await fetch(repo)).code).toBe(0);
    gitlab.remote.set('ci/moving.yml', 'job:\n  script: [two]\n');
    rmSync(join(repo, '.shipway/includes/remote'), { recursive: true });
    const refused = await fetch(repo);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/is not what the lock pinned/);
    expect((await fetch(repo, '--update')).code).toBe(0);
  });

  it('a wrong token is an external error (exit 3) that names the project, never the token', async () => {
    const { repo } = project('include:\n  - project: acme/ci\n    file: ci/lint.yml\n');
    const run = await shipway(repo, ['includes', 'fetch', '--server', gitlab.url, '--token', 'glpat-wrong-token-123']);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/acme\/ci/);
    expect(`${run.stdout}${run.stderr}`).not.toContain('glpat-wrong-token-123');
    const viaEnv = await shipway(repo, ['includes', 'fetch', '--server', gitlab.url], {
      GITLAB_TOKEN: 'glpat-wrong-token-456',
    });
    expect(viaEnv.code).toBe(3);
    expect(`${viaEnv.stdout}${viaEnv.stderr}`).not.toContain('glpat-wrong-token-456');
  });
});
