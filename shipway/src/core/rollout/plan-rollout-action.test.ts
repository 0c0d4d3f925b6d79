import { describe, expect, it } from 'vitest';
import { planRolloutAction, type RolloutPlan } from './plan-rollout-action.js';
import { type Rollout, rolloutSchema } from './rollout-object.js';

// Every case below is one branch of getPatches / PromoteRollout in the Argo Rollouts plugin,
// pkg/kubectl-argo-rollouts/cmd/promote/promote.go at tag v1.9.1; the line numbers are that file's.

const SIX_STEPS = [
  { setWeight: 20 },
  { pause: {} },
  { setWeight: 50 },
  { pause: { duration: '30s' } },
  { analysis: { templates: [{ templateName: 'success-rate' }] } },
  { setWeight: 100 },
];
const CANARY = { canary: { steps: SIX_STEPS } };
const BLUE_GREEN = { blueGreen: { activeService: 'hello' } };
const DIGEST = `sha256:${'c'.repeat(64)}`;

function rollout(status: Record<string, unknown>, spec: Record<string, unknown> = {}): Rollout {
  return rolloutSchema.parse({
    metadata: { name: 'hello', resourceVersion: '7' },
    spec: {
      strategy: CANARY,
      template: { spec: { containers: [{ name: 'hello', image: `reg/hello:v2@${DIGEST}` }] } },
      ...spec,
    },
    status: { stableRS: 'stable1', currentPodHash: 'canary2', ...status },
  });
}

const status = (body: Record<string, unknown>) => ({ target: 'status', body: { status: body } }) as const;
const UNPAUSE = { target: 'main', body: { spec: { paused: false } } } as const;
const patches = (list: readonly unknown[], unified: unknown = null): RolloutPlan =>
  ({ kind: 'patches', patches: list, unified }) as RolloutPlan;
const unified = (body: Record<string, unknown>) => ({ target: 'main', body });
const UNPAUSE_AND_CLEAR = unified({ spec: { paused: false }, status: { pauseConditions: null } });
const PAUSE_STEP = [{ reason: 'CanaryPauseStep', startTime: '2026-01-01T00:00:00Z' }];

describe('promote (getPatches default branch, lines 168-201)', () => {
  it.each([
    [
      'L184-185: pause conditions are cleared; the step does not move (controller advances it)',
      rollout({ currentStepIndex: 1, pauseConditions: PAUSE_STEP, controllerPause: true }),
      patches([status({ pauseConditions: null })], UNPAUSE_AND_CLEAR),
    ],
    [
      'L170-172 + L184-185: paused by hand at a pause step: status first, then spec (lines 118-134)',
      rollout({ currentStepIndex: 1, pauseConditions: PAUSE_STEP }, { paused: true }),
      patches([status({ pauseConditions: null }), UNPAUSE], UNPAUSE_AND_CLEAR),
    ],
    [
      'L176-183: an inconclusive step analysis that paused the controller: cleared, step advanced',
      rollout({
        currentStepIndex: 4,
        pauseConditions: [{ reason: 'InconclusiveAnalysisRun' }],
        controllerPause: true,
        canary: { currentStepAnalysisRunStatus: { status: 'Inconclusive' } },
      }),
      patches([status({ pauseConditions: null, controllerPause: false, currentStepIndex: 5 })], UNPAUSE_AND_CLEAR),
    ],
    [
      'L179-181: inconclusive with the index already at the end: the index stays',
      rollout({
        currentStepIndex: 6,
        pauseConditions: [{ reason: 'InconclusiveAnalysisRun' }],
        controllerPause: true,
        canary: { currentStepAnalysisRunStatus: { status: 'Inconclusive' } },
      }),
      patches([status({ pauseConditions: null, controllerPause: false, currentStepIndex: 6 })], UNPAUSE_AND_CLEAR),
    ],
    [
      'L176: inconclusive but no controllerPause: falls to L184, pause conditions cleared only',
      rollout({
        currentStepIndex: 4,
        pauseConditions: [{ reason: 'InconclusiveAnalysisRun' }],
        canary: { currentStepAnalysisRunStatus: { status: 'Inconclusive' } },
      }),
      patches([status({ pauseConditions: null })], UNPAUSE_AND_CLEAR),
    ],
    [
      'L176-177: inconclusive on a canary without steps: GetCurrentCanaryStep has no index, so no status patch',
      rollout(
        {
          pauseConditions: [{ reason: 'InconclusiveAnalysisRun' }],
          controllerPause: true,
          canary: { currentStepAnalysisRunStatus: { status: 'Inconclusive' } },
        },
        { paused: true, strategy: { canary: {} } },
      ),
      patches([UNPAUSE]),
    ],
    [
      'L186-200: a canary running a step (no pause conditions) skips to the next step',
      rollout({ currentStepIndex: 2 }),
      patches(
        [status({ pauseConditions: null, currentStepIndex: 3 })],
        unified({ spec: { paused: false }, status: { pauseConditions: null, currentStepIndex: 3 } }),
      ),
    ],
    [
      'L170-172 + L186-200: paused by hand with no pause conditions: the step advances too, then the spec unpauses',
      rollout({ currentStepIndex: 2 }, { paused: true }),
      patches(
        [status({ pauseConditions: null, currentStepIndex: 3 }), UNPAUSE],
        unified({ spec: { paused: false }, status: { pauseConditions: null, currentStepIndex: 3 } }),
      ),
    ],
    [
      'L191-197: no currentStepIndex reads as step 0, so the next one is 1',
      rollout({}),
      patches(
        [status({ pauseConditions: null, currentStepIndex: 1 })],
        unified({ spec: { paused: false }, status: { pauseConditions: null, currentStepIndex: 1 } }),
      ),
    ],
    [
      'L195-198: currentStepIndex already at the end: the same index is sent again',
      rollout({ currentStepIndex: 6 }),
      patches(
        [status({ pauseConditions: null, currentStepIndex: 6 })],
        unified({ spec: { paused: false }, status: { pauseConditions: null, currentStepIndex: 6 } }),
      ),
    ],
    [
      'L194: a canary without steps has no index: nothing to send',
      rollout({}, { strategy: { canary: {} } }),
      { kind: 'noop', reason: 'rollout hello has nothing to promote' },
    ],
    [
      'L184-185: blue-green paused for pre-promotion: its pause condition is cleared',
      rollout({ pauseConditions: [{ reason: 'BlueGreenPause' }], controllerPause: true }, { strategy: BLUE_GREEN }),
      patches([status({ pauseConditions: null })], UNPAUSE_AND_CLEAR),
    ],
    [
      'L170-172: blue-green paused by hand: only the spec patch (L186 is canary only)',
      rollout({}, { strategy: BLUE_GREEN, paused: true }),
      patches([UNPAUSE]),
    ],
    [
      'blue-green neither paused nor waiting: the plugin sends nothing',
      rollout({}, { strategy: BLUE_GREEN }),
      { kind: 'noop', reason: 'rollout hello has nothing to promote' },
    ],
  ])('%s', (_branch, value, expected) => {
    expect(planRolloutAction(value, 'promote')).toEqual(expected);
  });
});

describe('promote --full (getPatches full branch, lines 160-167)', () => {
  const FULL = unified({ spec: { paused: false }, status: { promoteFull: true } });
  it.each([
    [
      'L164-166: an update in flight gets status.promoteFull',
      rollout({ currentStepIndex: 2 }),
      patches([status({ promoteFull: true })], FULL),
    ],
    [
      'L161-166: paused by hand with an update in flight: promoteFull, then the spec unpauses',
      rollout({ currentStepIndex: 1, pauseConditions: PAUSE_STEP }, { paused: true }),
      patches([status({ promoteFull: true }), UNPAUSE], FULL),
    ],
    [
      'L161-163: paused by hand and already fully promoted: only the spec unpauses',
      rollout({ currentPodHash: 'stable1' }, { paused: true }),
      patches([UNPAUSE]),
    ],
    [
      'L164: current pod hash is the stable one: nothing to send',
      rollout({ currentPodHash: 'stable1' }),
      { kind: 'noop', reason: 'rollout hello is already fully promoted' },
    ],
    [
      "L164: Go compares strings, so two empty hashes are equal (a Rollout the controller hasn't seen)",
      rollout({ currentPodHash: undefined, stableRS: undefined }),
      { kind: 'noop', reason: 'rollout hello is already fully promoted' },
    ],
    [
      'L164: a current hash with no stable one yet differs',
      rollout({ stableRS: undefined }),
      patches([status({ promoteFull: true })], FULL),
    ],
    [
      'L160-167: blue-green is treated the same',
      rollout({}, { strategy: BLUE_GREEN }),
      patches([status({ promoteFull: true })], FULL),
    ],
  ])('%s', (_branch, value, expected) => {
    expect(planRolloutAction(value, 'promote-full')).toEqual(expected);
  });
});

describe('the unified patch (PromoteRollout, lines 111-134)', () => {
  it('is only planned alongside a status patch: it replaces the spec patch when the status subresource 404s', () => {
    const specOnly = planRolloutAction(rollout({}, { strategy: BLUE_GREEN, paused: true }), 'promote');
    expect(specOnly).toMatchObject({ kind: 'patches', unified: null });
    const withStatus = planRolloutAction(rollout({ currentStepIndex: 1, pauseConditions: PAUSE_STEP }), 'promote');
    expect(withStatus).toMatchObject({ kind: 'patches', unified: UNPAUSE_AND_CLEAR });
  });

  it('abort and retry fall back to the same patch on the Rollout (abort.go AbortRollout, retry.go RetryRollout)', () => {
    const value = rollout({ currentStepIndex: 2 });
    expect(planRolloutAction(value, 'abort')).toEqual(
      patches([status({ abort: true })], unified({ status: { abort: true } })),
    );
    expect(planRolloutAction(value, 'retry')).toEqual(
      patches([status({ abort: false })], unified({ status: { abort: false } })),
    );
    expect(planRolloutAction(value, 'pause')).toEqual(patches([{ target: 'main', body: { spec: { paused: true } } }]));
  });
});

describe("--expect-digest (shipway's gate, not the plugin's)", () => {
  it('refuses promote and promote --full unless the pod template runs that digest', () => {
    const value = rollout({ currentStepIndex: 1, pauseConditions: PAUSE_STEP });
    const other = `sha256:${'d'.repeat(64)}`;
    for (const verb of ['promote', 'promote-full'] as const) {
      expect(planRolloutAction(value, verb, { expectDigest: other })).toMatchObject({
        kind: 'refused',
        code: 'DIGEST_MISMATCH',
      });
      expect(planRolloutAction(value, verb, { expectDigest: DIGEST }).kind).toBe('patches');
    }
  });

  it('refuses abort and retry too when given (the dashboard names the digest it acts on)', () => {
    const value = rollout({ currentStepIndex: 1, pauseConditions: PAUSE_STEP });
    const other = `sha256:${'d'.repeat(64)}`;
    for (const verb of ['abort', 'retry'] as const) {
      expect(planRolloutAction(value, verb, { expectDigest: other })).toMatchObject({ code: 'DIGEST_MISMATCH' });
      expect(planRolloutAction(value, verb, { expectDigest: DIGEST }).kind).not.toBe('refused');
    }
  });
});
