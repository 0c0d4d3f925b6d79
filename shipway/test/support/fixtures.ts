import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './git-fixture.js';

/** Vendored test data (schemas, the original pipeline): see shipway/test/fixtures/README.md. */
export const FIXTURES = join(REPO_ROOT, 'shipway/test/fixtures');

export function readFixture(path: string): string {
  return readFileSync(join(FIXTURES, path), 'utf8');
}

/** The team's original .gitlab-ci.yml, the pipeline shipway replaces. */
export const ORIGINAL_PIPELINE = readFixture('original/original.gitlab-ci.yml');
