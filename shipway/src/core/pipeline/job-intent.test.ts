import { describe, expect, it } from 'vitest';
import type { CiMap } from './ci-yaml.js';
import { deploys, rollsBack, shellCommands, shipwayCommands } from './job-intent.js';

/** A job as planned; its name is there to show it is not read. */
const named = (name: string, definition: CiMap, matrix?: Record<string, string>) => ({
  name,
  definition,
  parallel: matrix === undefined ? null : { job: 'x', index: 1, total: 1, variables: new Map(Object.entries(matrix)) },
});

const job = (definition: CiMap, matrix?: Record<string, string>) => named('job', definition, matrix);

// The job's name is never read: each case is a job whose name says the opposite of what it does.
describe('rollsBack: from SHIPWAY_ACTION or the shipway command a script runs, never the name', () => {
  it('a job named revert-prod running `shipway promote` does not roll back', () => {
    expect(rollsBack(named('revert-prod', { script: ['shipway promote prod --from stage'] }))).toBe(false);
  });

  it('a job named deploy running `shipway rollback prod` rolls back', () => {
    expect(rollsBack(named('deploy', { script: ['shipway rollback prod'] }))).toBe(true);
  });

  it('a job named revert-prod running `shipway rollback prod` rolls back', () => {
    expect(rollsBack(named('revert-prod', { script: ['shipway rollback prod'] }))).toBe(true);
  });

  it('a job named rollback-drill running `shipway status prod` does not roll back', () => {
    expect(rollsBack(named('rollback-drill', { script: ['shipway status prod'] }))).toBe(false);
  });

  it('`shipway rollout abort prod` (after a wait, in the same script) rolls back', () => {
    const script = ['shipway rollout wait prod --for healthy', 'shipway rollout abort prod --no-revert'];
    expect(rollsBack(job({ script }))).toBe(true);
  });

  it('`npx shipway rollback`, `npx -y shipway@0.1.0 rollback`, `npm exec -- shipway rollback`, a path to shipway', () => {
    for (const line of [
      'npx shipway rollback prod',
      'npx -y shipway@0.1.0 rollback prod',
      'npx --package shipway shipway rollout abort prod',
      'npm exec -- shipway rollback prod',
      './node_modules/.bin/shipway rollback prod',
    ])
      expect(rollsBack(job({ script: [line] })), line).toBe(true);
  });

  it('a shipway command after `&&`, `;`, `then`, an assignment or inside a multi-line block', () => {
    for (const line of [
      'echo start && shipway rollback prod',
      'cd app; GIT_TRACE=1 shipway rollback prod',
      'if [ "$X" = 1 ]; then\n  shipway rollout abort prod\nfi',
      'env FOO=1 shipway rollback prod',
    ])
      expect(rollsBack(job({ script: [line] })), line).toBe(true);
  });

  it('in before_script or after_script too, and in nested script lists', () => {
    expect(rollsBack(job({ before_script: ['shipway rollback prod'], script: ['true'] }))).toBe(true);
    expect(rollsBack(job({ script: ['true'], after_script: [['shipway rollout abort prod']] }))).toBe(true);
  });

  it('SHIPWAY_ACTION: rollback or abort, as a job variable, `{ value: }` or a matrix variable', () => {
    expect(rollsBack(job({ variables: { SHIPWAY_ACTION: 'rollback' }, script: ['./undo.sh'] }))).toBe(true);
    expect(rollsBack(job({ variables: { SHIPWAY_ACTION: { value: 'abort' } }, script: ['./undo.sh'] }))).toBe(true);
    expect(rollsBack(job({ script: ['./undo.sh'] }, { SHIPWAY_ACTION: 'rollback' }))).toBe(true);
  });

  it('other shipway commands, and the words rollback/abort elsewhere, are not rollbacks', () => {
    for (const line of [
      'shipway rollout promote prod',
      'shipway rollout retry prod',
      'shipway status prod',
      'echo "shipway rollback prod"',
      'echo shipway rollback prod',
      "git commit -m 'shipway rollout abort'",
      '# shipway rollback prod',
      'kubectl argo rollouts abort hello',
      'myshipway rollback prod',
    ])
      expect(rollsBack(job({ script: [line] })), line).toBe(false);
    expect(rollsBack(job({ variables: { SHIPWAY_ACTION: 'deploy' }, script: ['./go.sh'] }))).toBe(false);
  });
});

describe('deploys: from environment:, SHIPWAY_ACTION or the shipway command, never the name', () => {
  it('a job named deploy-x with no environment and no deploy command does not deploy', () => {
    expect(deploys(named('deploy-x', { script: ['echo deploying'] }))).toBe(false);
  });

  it('a job named ship-it with `environment: prod` deploys', () => {
    expect(deploys(named('ship-it', { environment: 'prod', script: ['./ship.sh'] }))).toBe(true);
  });

  it('`environment: { name: }` deploys; action start too, prepare/verify/access/stop do not (GitLab environment:action)', () => {
    expect(deploys(job({ environment: { name: 'prod' }, script: ['./ship.sh'] }))).toBe(true);
    expect(deploys(job({ environment: { name: 'prod', action: 'start' }, script: ['./ship.sh'] }))).toBe(true);
    for (const action of ['prepare', 'verify', 'access', 'stop'])
      expect(deploys(job({ environment: { name: 'prod', action }, script: ['./x.sh'] })), action).toBe(false);
  });

  it('SHIPWAY_ACTION: deploy deploys', () => {
    expect(deploys(job({ variables: { SHIPWAY_ACTION: 'deploy' }, script: ['./ship.sh'] }))).toBe(true);
  });

  it('`shipway promote` and `shipway rollback` deploy (they write the GitOps branch); `rollout promote` does not', () => {
    expect(deploys(job({ script: ['npx shipway promote "$SHIPWAY_ENVIRONMENT" --dotenv deploy.env'] }))).toBe(true);
    expect(deploys(job({ script: ['shipway rollback prod'] }))).toBe(true);
    expect(deploys(job({ script: ['shipway rollout promote prod'] }))).toBe(false);
  });
});

describe('shipwayCommands and shellCommands', () => {
  it('reads the verb (and rollout sub-verb), skipping options', () => {
    expect(shipwayCommands({ script: ['shipway --json promote dev', 'shipway rollout abort prod'] })).toEqual([
      'promote',
      'rollout abort',
    ]);
  });

  it('splits on unquoted separators only and removes quotes', () => {
    expect(shellCommands(`a "b; c" 'd|e' && f\\ g | h # i; j\nk`)).toEqual([
      ['a', 'b; c', 'd|e'],
      ['f g'],
      ['h'],
      ['k'],
    ]);
  });
});
