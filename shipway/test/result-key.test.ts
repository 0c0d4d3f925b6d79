import { describe, expect, it } from 'vitest';
import { resultKey } from '../src/core/runner/result-key.js';

// core/runner/result-key.ts: what a SHIPWAY_REUSE: tree result is keyed on.
const base = {
  tree: 'a'.repeat(40),
  job: 'build',
  definition: { stage: 'build', script: ['npm test'], variables: { SHIPWAY_REUSE: 'tree' } },
  variables: new Map([
    ['npm_config_cache', '/runs/1-dev/work/.npm'],
    ['CI_COMMIT_BRANCH', 'dev'],
    ['CI_PIPELINE_ID', '1'],
    ['REGISTRY', '127.0.0.1:5000'],
  ]),
  workspace: '/runs/1-dev/work',
  runtime: 'node v20.19.0 linux-x64',
  artifacts: 'e'.repeat(64),
  declared: new Set<string>(),
};

describe('resultKey', () => {
  it("is the same for another pipeline of the same tree: GitLab's predefined variables and the checkout's path do not count", () => {
    const other = {
      ...base,
      variables: new Map([
        ['REGISTRY', '127.0.0.1:5000'],
        ['CI_PIPELINE_ID', '2'],
        ['CI_COMMIT_BRANCH', 'stage'],
        ['npm_config_cache', '/runs/2-stage/work/.npm'],
      ]),
      workspace: '/runs/2-stage/work',
      definition: { variables: { SHIPWAY_REUSE: 'tree' }, script: ['npm test'], stage: 'build' },
    };
    expect(resultKey(other)).toBe(resultKey(base));
  });

  it('changes with the tree, the job, its definition, any other variable, the runtime and the artifacts it receives', () => {
    const key = resultKey(base);
    expect(resultKey({ ...base, tree: 'b'.repeat(40) })).not.toBe(key);
    expect(resultKey({ ...base, job: 'test' })).not.toBe(key);
    expect(resultKey({ ...base, definition: { ...base.definition, script: ['npm test -- --bail'] } })).not.toBe(key);
    expect(resultKey({ ...base, variables: new Map([...base.variables, ['REGISTRY', '127.0.0.1:5001']]) })).not.toBe(
      key,
    );
    expect(resultKey({ ...base, variables: new Map([...base.variables, ['IMAGE', 'app:dev']]) })).not.toBe(key);
    expect(resultKey({ ...base, runtime: 'node v22.0.0 linux-x64' })).not.toBe(key);
    expect(resultKey({ ...base, artifacts: 'f'.repeat(64) })).not.toBe(key);
  });

  it('a variable named CI_… that the project or the job sets itself counts; a predefined one does not', () => {
    const target = (value: string, declared: boolean) =>
      resultKey({
        ...base,
        variables: new Map([...base.variables, ['CI_DEPLOY_TARGET', value]]),
        declared: new Set(declared ? ['CI_DEPLOY_TARGET'] : []),
      });
    expect(target('eu', true)).not.toBe(target('us', true));
    expect(target('eu', false)).toBe(target('us', false));
  });
});
