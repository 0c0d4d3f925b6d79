import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { htpasswdAuth } from '../src/local/registry/registry-auth.js';
import { createRegistryServer } from '../src/local/registry/registry-server.js';
import { cloneRepo, type RepoClone } from './support/repo-clone.js';
import { shipway } from './support/run-shipway.js';

let clone: RepoClone;
let open: FastifyInstance;
let locked: FastifyInstance;
let openHost: string;
let lockedHost: string;

beforeAll(async () => {
  clone = cloneRepo();
  const bcrypt = (await import('bcryptjs')).default;
  const htpasswd = join(clone.dir, '..', 'htpasswd');
  (await import('node:fs')).writeFileSync(htpasswd, `ci:${bcrypt.hashSync('right', 4)}\n`);
  open = await createRegistryServer({ dir: join(clone.dir, '..', 'open') });
  locked = await createRegistryServer({ dir: join(clone.dir, '..', 'locked'), auth: await htpasswdAuth(htpasswd) });
  openHost = new URL(await open.listen({ port: 0, host: '127.0.0.1' })).host;
  lockedHost = new URL(await locked.listen({ port: 0, host: '127.0.0.1' })).host;
});
afterAll(async () => {
  await open.close();
  await locked.close();
  clone.cleanup();
});

const repositories = (dir: string) => {
  try {
    return readdirSync(join(clone.dir, '..', dir, 'repositories'));
  } catch {
    return [];
  }
};

describe('image build: bad input fails with one line, the right exit code, and the registry unchanged', () => {
  it('an unknown base image: exit 2', async () => {
    const run = await shipway(clone.dir, ['image', 'build', '--base', `${openHost}/no/such-base:1`, '--push'], {
      AWS_REPOSITORY: `${openHost}/hello`,
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      new RegExp(
        `^shipway: base image ${openHost}/no/such-base:1 was not found on ${openHost}\n  hint: check the --base reference, or use --base host\n$`,
        'm',
      ),
    );
    expect(repositories('open')).toEqual([]);
  }, 60_000);

  it('an invalid reference: exit 2', async () => {
    const run = await shipway(clone.dir, ['image', 'build', '--base', 'Not A Ref'], {
      AWS_REPOSITORY: `${openHost}/hello`,
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^shipway: invalid image reference "Not A Ref"/);
    const badRepository = await shipway(clone.dir, ['image', 'build', '--base', 'host'], {
      AWS_REPOSITORY: 'team/UPPER',
    });
    expect(badRepository.code).toBe(2);
    expect(badRepository.stderr).toContain('image.repository expands to "team/UPPER", which is not a valid repository');
  });

  it('wrong credentials: exit 3, and nothing lands', async () => {
    const run = await shipway(clone.dir, ['image', 'build', '--base', 'host', '--push'], {
      AWS_REPOSITORY: `${lockedHost}/hello`,
      SHIPWAY_REGISTRY_USERNAME: 'ci',
      SHIPWAY_REGISTRY_PASSWORD: 'wrong',
    });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/^shipway: get manifest hello:src-[0-9a-f]+ on 127\.0\.0\.1:\d+ failed: HTTP 401/m);
    expect(run.stderr).toContain('hint: check the registry credentials');
    expect(run.stderr).not.toContain('wrong');
    expect(repositories('locked')).toEqual([]);
  }, 60_000);

  it('the registry is down: exit 3', async () => {
    const run = await shipway(clone.dir, ['image', 'build', '--base', 'host', '--push'], {
      AWS_REPOSITORY: '127.0.0.1:9/hello',
    });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(
      /^shipway: cannot reach registry 127\.0\.0\.1:9: ECONNREFUSED\n {2}hint: check that the registry is running/m,
    );
  }, 60_000);
});
