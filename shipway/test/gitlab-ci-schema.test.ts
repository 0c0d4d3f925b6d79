import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readFixture } from './support/fixtures.js';
import { REPO_ROOT } from './support/git-fixture.js';

// GitLab's own CI schema (vendored: shipway/test/fixtures/schemas/gitlab-ci.json, from gitlab-org/gitlab), with the
// `!reference` tag read as the list it stands for.
const referenceTag = { tag: '!reference', collection: 'seq' as const, resolve: (value: unknown) => value };

function load(file: string): unknown {
  return parse(readFileSync(file, 'utf8'), { customTags: [referenceTag], merge: true });
}

describe('.gitlab-ci.yml', () => {
  const schema = JSON.parse(readFixture('schemas/gitlab-ci.json'));
  const validate = new Ajv({ strict: false, allErrors: true, validateFormats: false }).compile(schema);

  it("validates against GitLab's official CI schema", () => {
    const config = load(join(REPO_ROOT, '.gitlab-ci.yml'));
    expect(validate(config) ? [] : validate.errors).toEqual([]);
  });

  it('the schema is strict enough to catch a misspelt keyword', () => {
    const config = load(join(REPO_ROOT, '.gitlab-ci.yml')) as Record<string, Record<string, unknown>>;
    const broken = { ...config, build: { ...config.build, scirpt: ['npm test'] } };
    expect(validate(broken)).toBe(false);
  });

  it('keeps the original contract: stages, manual prod jobs, and every script a shipway or npm command', () => {
    const config = load(join(REPO_ROOT, '.gitlab-ci.yml')) as Record<
      string,
      { stage?: string; script?: string[]; rules?: { when?: string }[]; image?: string }
    >;
    expect(config.stages).toEqual(['build', 'publish', 'deploy-dev', 'deploy-stage', 'deploy-prod', 'promote-prod']);
    for (const job of ['deploy-prod', 'promote-prod', 'rollback-prod'])
      expect(config[job]?.rules?.[0]?.when).toBe('manual');
    const jobs = Object.entries(config).filter(
      ([name, value]) => !name.startsWith('.') && typeof value === 'object' && value !== null && 'script' in value,
    );
    expect(jobs.map(([name]) => name).sort()).toEqual([
      'build',
      'create-release',
      'deploy-dev',
      'deploy-prod',
      'deploy-stage',
      'promote-prod',
      'publish',
      'publish-tool-image',
      'rollback-prod',
    ]);
    // create-release only announces the component release; GitLab's `release` keyword does the work.
    for (const [name, job] of jobs)
      if (name !== 'create-release')
        for (const line of job.script ?? []) expect(line).toMatch(/^((npx )?shipway |npm (test|run |pack ))/);
    const text = readFileSync(join(REPO_ROOT, '.gitlab-ci.yml'), 'utf8');
    expect(text).not.toMatch(/:latest\b|curl .*\| *(ba)?sh/);
  });

  it('deploy, promote and rollback jobs run in the tool image and install nothing', () => {
    const config = load(join(REPO_ROOT, '.gitlab-ci.yml')) as Record<
      string,
      { extends?: string; image?: string; before_script?: string[]; cache?: unknown[]; script?: string[] }
    >;
    const tool = config['.shipway-tool'];
    expect(tool).toEqual({ image: '$SHIPWAY_IMAGE', before_script: [], cache: [] });
    for (const job of ['deploy-dev', 'deploy-stage', 'deploy-prod', 'promote-prod', 'rollback-prod']) {
      expect(config[job]?.extends).toBe('.shipway-tool');
      for (const line of config[job]?.script ?? []) expect(line).toMatch(/^shipway /);
    }
    // publish runs there too, on build's compiled output and the cached production packages.
    expect(config.publish?.image).toBe('$SHIPWAY_IMAGE');
    expect(config.publish?.script).toEqual(['shipway image build --prebuilt --push --dotenv build.env']);
  });
});
