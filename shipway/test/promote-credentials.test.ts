import { mkdirSync, readdirSync, readFileSync, statSync, utimesSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createGitFixture, DIGEST_A, type GitFixture } from './support/git-fixture.js';
import { type GitHttpServer, startGitHttpServer } from './support/git-http-server.js';
import { shipway } from './support/run-shipway.js';

const TOKEN = 'glpat-s3cret-Token-4711';
let fixture: GitFixture;
let server: GitHttpServer;

beforeEach(async () => {
  fixture = createGitFixture();
  server = await startGitHttpServer(dirname(fixture.remote), TOKEN);
  fixture.git(fixture.work, 'remote', 'set-url', 'origin', `${server.url}/remote.git`);
});
afterEach(async () => {
  await server.close();
  fixture.cleanup();
});

/** Files under a private TMPDIR given to shipway, to see what it leaves behind. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' });
}

describe('push credentials', () => {
  it('pushes over HTTP with CI_JOB_TOKEN handed to git in memory, never printed or written', async () => {
    const privateTmp = join(fixture.root, 'tmp');
    mkdirSync(privateTmp);
    utimesSync(privateTmp, 1000, 1000);
    const run = await shipway(fixture.work, ['promote', 'dev', '--image', `127.0.0.1:5000/hello:v1@${DIGEST_A}`], {
      CI_JOB_TOKEN: TOKEN,
      TMPDIR: privateTmp,
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(fixture.git(fixture.remote, 'rev-parse', '--verify', 'dev').trim()).toMatch(/^[0-9a-f]{40}$/);
    // git authenticated as gitlab-ci-token with the job token...
    const basic = `Basic ${Buffer.from(`gitlab-ci-token:${TOKEN}`).toString('base64')}`;
    expect(server.seenAuthorizations).toContain(basic);
    // ...and the token is nowhere on disk: not in the checkout's config, not in a leftover scratch repo.
    expect(readFileSync(join(fixture.work, '.git/config'), 'utf8')).not.toContain(TOKEN);
    // The scratch repository was made there (the directory changed) and removed again.
    expect(statSync(privateTmp).mtimeMs).toBeGreaterThan(1_000_000);
    expect(filesUnder(privateTmp)).toEqual([]);
    expect(run.stdout + run.stderr).not.toContain(TOKEN);
  });

  it('a wrong token fails with exit 3, says what to fix, and does not print the token', async () => {
    const before = fixture.refs();
    const run = await shipway(fixture.work, ['promote', 'dev', '--image', `127.0.0.1:5000/hello:v1@${DIGEST_A}`], {
      SHIPWAY_GIT_TOKEN: 'wrong-token-0000',
    });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(
      /^shipway: fetch branch dev from http:\/\/127\.0\.0\.1:\d+\/remote\.git failed: .*Authentication failed/,
    );
    expect(run.stderr).toContain('hint: check the push token');
    expect(run.stderr).not.toContain('wrong-token-0000');
    expect(fixture.refs()).toBe(before);
  });

  it('ignores credentials embedded in the remote URL and never echoes them', async () => {
    fixture.git(
      fixture.work,
      'remote',
      'set-url',
      'origin',
      `${server.url.replace('http://', `http://ci:${TOKEN}@`)}/remote.git`,
    );
    const withoutToken = await shipway(fixture.work, [
      'promote',
      'dev',
      '--image',
      `127.0.0.1:5000/hello:v1@${DIGEST_A}`,
    ]);
    expect(withoutToken.code).toBe(3);
    expect(withoutToken.stderr).toContain('ignoring credentials embedded in the remote URL');
    expect(withoutToken.stderr).not.toContain(TOKEN);
    const withToken = await shipway(
      fixture.work,
      ['promote', 'dev', '--image', `127.0.0.1:5000/hello:v1@${DIGEST_A}`],
      {
        CI_PUSH_TOKEN: TOKEN,
        CI_USERNAME: 'deployer',
      },
    );
    expect(withToken.code).toBe(0);
    expect(withToken.stdout + withToken.stderr).not.toContain(TOKEN);
  });
});
