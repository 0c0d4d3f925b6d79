import { describe, expect, it } from 'vitest';
import { type Rollout, rolloutSchema } from './rollout-object.js';
import { desiredWeight, rolloutPhase } from './rollout-phase.js';

const steps = [{ setWeight: 20 }, { pause: {} }, { setWeight: 50 }, { pause: { duration: '30s' } }];

function rollout(status: Record<string, unknown>, spec: Record<string, unknown> = {}, generation = 1): Rollout {
  return rolloutSchema.parse({
    metadata: { name: 'hello', generation },
    spec: { replicas: 4, strategy: { canary: { steps } }, ...spec },
    status: {
      observedGeneration: '1',
      stableRS: 'a',
      currentPodHash: 'a',
      replicas: 4,
      updatedReplicas: 4,
      availableReplicas: 4,
      ...status,
    },
  });
}

// One case per rule of GetRolloutPhase / CalculateRolloutPhase, in the plugin's order; each case
// also satisfies the rules after it, so a rule checked out of order would change the answer.
describe("rolloutPhase: the Argo Rollouts plugin's rules, in order", () => {
  it.each([
    [
      'generation not yet observed',
      rollout({ observedGeneration: '1' }, {}, 2),
      'Progressing',
      'waiting for rollout spec update to be observed',
    ],
    [
      'unpausing: controllerPause with no pause conditions',
      rollout({ controllerPause: true, pauseConditions: [] }),
      'Progressing',
      'waiting for rollout to unpause',
    ],
    [
      'phase computed by the controller wins',
      rollout({ phase: 'Paused', message: 'CanaryPauseStep' }),
      'Paused',
      'CanaryPauseStep',
    ],
    [
      'invalid spec',
      rollout(
        {
          conditions: [
            { type: 'InvalidSpec', status: 'True', message: 'bad step' },
            { type: 'Progressing', reason: 'RolloutAborted', message: 'x' },
          ],
        },
        { paused: true },
      ),
      'Degraded',
      'InvalidSpec: bad step',
    ],
    [
      'aborted',
      rollout(
        {
          abort: true,
          conditions: [
            { type: 'Progressing', reason: 'RolloutAborted', message: 'Rollout aborted update to revision 2' },
          ],
        },
        { paused: true },
      ),
      'Degraded',
      'RolloutAborted: Rollout aborted update to revision 2',
    ],
    [
      'progress deadline exceeded',
      rollout(
        {
          conditions: [
            {
              type: 'Progressing',
              reason: 'ProgressDeadlineExceeded',
              message: 'ReplicaSet "hello-b" has timed out progressing.',
            },
          ],
        },
        { paused: true },
      ),
      'Degraded',
      'ProgressDeadlineExceeded: ReplicaSet "hello-b" has timed out progressing.',
    ],
    [
      'manual pause',
      rollout({ pauseConditions: [{ reason: 'CanaryPauseStep' }] }, { paused: true }),
      'Paused',
      'manually paused',
    ],
    [
      'pause condition',
      rollout({ pauseConditions: [{ reason: 'CanaryPauseStep' }], updatedReplicas: 1 }),
      'Paused',
      'CanaryPauseStep',
    ],
    [
      'restarting',
      rollout({ updatedReplicas: 1 }, { restartAt: '2026-01-01T00:00:00Z' }),
      'Progressing',
      'rollout is restarting',
    ],
    [
      'replicas not updated',
      rollout({ updatedReplicas: 1, currentPodHash: 'b' }),
      'Progressing',
      'more replicas need to be updated',
    ],
    [
      'replicas not available',
      rollout({ availableReplicas: 3, currentPodHash: 'b' }),
      'Progressing',
      'updated replicas are still becoming available',
    ],
    [
      'old replicas pending termination',
      rollout({ replicas: 5, currentPodHash: 'b' }),
      'Progressing',
      'old replicas are pending termination',
    ],
    [
      'waiting for steps',
      rollout({ currentPodHash: 'b', currentStepIndex: 2 }),
      'Progressing',
      'waiting for all steps to complete',
    ],
    ['healthy', rollout({}), 'Healthy', ''],
  ])('%s', (_rule, value, phase, message) => {
    expect(rolloutPhase(value)).toEqual({ phase, message });
  });

  it('blue-green: cutover pending until the active selector is the current hash', () => {
    const blueGreen = { strategy: { blueGreen: { activeService: 'hello' } } };
    expect(rolloutPhase(rollout({ currentPodHash: 'b', blueGreen: { activeSelector: 'a' } }, blueGreen))).toEqual({
      phase: 'Progressing',
      message: 'active service cutover pending',
    });
    expect(rolloutPhase(rollout({ currentPodHash: 'b', blueGreen: { activeSelector: 'b' } }, blueGreen))).toEqual({
      phase: 'Progressing',
      message: 'waiting for post-promotion verification to complete',
    });
  });
});

describe('desiredWeight', () => {
  it('is the last setWeight reached, 100 when promoted, 0 when aborted', () => {
    expect(desiredWeight(rollout({ currentPodHash: 'b', currentStepIndex: 1 }))).toBe(20);
    expect(desiredWeight(rollout({ currentPodHash: 'b', currentStepIndex: 3 }))).toBe(50);
    expect(desiredWeight(rollout({}))).toBe(100);
    expect(desiredWeight(rollout({ currentPodHash: 'b', abort: true }))).toBe(0);
  });
});
