import { describe, expect, it } from 'vitest';
import { chooseGitRemote, runsInCi } from './choose-git-remote.js';

const STAND_IN = '/home/me/.local/state/shipway/gitlab/hello-0123456789ab.git';

describe('chooseGitRemote: which remote status, promote, rollback and rollout abort use', () => {
  it.each([
    // [what, inputs, remote, source]
    ['outside CI, after `shipway run`: the stand-in', {}, STAND_IN, 'local-stack'],
    ['in GitLab CI: git.remote, as before', { env: { CI: 'true', GITLAB_CI: 'true' } }, 'origin', 'shipway.yaml'],
    ['another CI (CI=1)', { env: { CI: '1' } }, 'origin', 'shipway.yaml'],
    ['GITLAB_CI alone', { env: { GITLAB_CI: 'true' } }, 'origin', 'shipway.yaml'],
    ['CI=false is not CI', { env: { CI: 'false' } }, STAND_IN, 'local-stack'],
    ['CI set but empty is not CI', { env: { CI: '' } }, STAND_IN, 'local-stack'],
    ['no `shipway run` in this checkout', { localStack: undefined }, 'origin', 'shipway.yaml'],
    ['a git.remote the user chose is kept', { configured: 'gitops' }, 'gitops', 'shipway.yaml'],
    ['--remote wins over everything', { flag: 'origin', env: { SHIPWAY_GIT_REMOTE: 'x' } }, 'origin', '--remote'],
    [
      'SHIPWAY_GIT_REMOTE, outside CI',
      { env: { SHIPWAY_GIT_REMOTE: '/srv/x.git' } },
      '/srv/x.git',
      'SHIPWAY_GIT_REMOTE',
    ],
    ['SHIPWAY_GIT_REMOTE, in CI', { env: { CI: 'true', SHIPWAY_GIT_REMOTE: 'y' } }, 'y', 'SHIPWAY_GIT_REMOTE'],
    ['an empty --remote is no choice', { flag: '' }, STAND_IN, 'local-stack'],
  ] as const)('%s', (_what, inputs, remote, source) => {
    expect(
      chooseGitRemote({ env: {}, configured: 'origin', localStack: STAND_IN, ...inputs } as Parameters<
        typeof chooseGitRemote
      >[0]),
    ).toEqual({ remote, source });
  });

  it('runsInCi reads CI and GITLAB_CI only', () => {
    expect(runsInCi({})).toBe(false);
    expect(runsInCi({ GITLAB_CI: 'true' })).toBe(true);
    expect(runsInCi({ CI_JOB_ID: '1' })).toBe(false);
  });
});
