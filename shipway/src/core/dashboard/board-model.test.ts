import { describe, expect, it } from 'vitest';
import type { RolloutView } from '../rollout/rollout-view.js';
import { buildBoard, type CardInput, withRollout } from './board-model.js';

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const pinned = (d: string | null) => ({
  image: d === null ? null : `127.0.0.1:5000/hello:v@${d}`,
  tag: 'v',
  digest: d,
  commit: 'c'.repeat(40),
  promotedAt: '2024-01-01T00:00:00Z',
  promotedFrom: null,
  pipeline: '7',
  kind: 'promote' as const,
  problem: null,
});
function rollout(canary: string, stable: string | null, step: number, weight: number): RolloutView {
  return {
    name: 'hello',
    namespace: 'hello-prod',
    phase: 'Paused',
    message: 'CanaryPauseStep',
    step: { current: step, total: 6 },
    desiredWeight: weight,
    actualWeight: weight,
    aborted: false,
    stable: { revision: 'old', image: stable === null ? null : `r@${stable}` },
    canary: { revision: 'new', image: `r@${canary}` },
    replicas: { desired: 5, updated: 1, available: 5 },
  };
}
const input = (environment: string, d: string | null, view: RolloutView | null = null): CardInput => ({
  environment,
  gate: 'auto',
  from: null,
  strategy: 'canary',
  pinned: pinned(d),
  rollout: view,
  rolloutProblem: null,
  analysis: [],
  pods: [
    { revision: 'new', ready: 1, total: 1 },
    { revision: 'old', ready: 4, total: 4 },
  ],
});

describe('the environments board model', () => {
  it('numbers releases by digest, so the same digest is the same release in every environment', () => {
    const board = buildBoard('hello', [
      input('dev', digest('b')),
      input('stage', digest('a')),
      input('prod', digest('a'), rollout(digest('a'), digest('9'), 1, 20)),
    ]);
    const [dev, stage, prod] = board.cards;
    expect(dev?.image.digest).toEqual({ full: digest('b'), short: 'bbbbbbbbbbbb', release: 1 });
    expect(stage?.image.digest?.release).toBe(2);
    expect(prod?.image.digest?.release).toBe(2);
    expect(prod?.rollout?.canary.digest?.release).toBe(2);
    expect(prod?.rollout?.stable.digest).toEqual({ full: digest('9'), short: '999999999999', release: 3 });
    expect(prod?.rollout).toMatchObject({ canaryWeight: 20, stableWeight: 80, step: { current: 1, total: 6 } });
    expect(prod?.pods).toEqual([
      { revision: 'new', ready: 1, total: 1, role: 'canary' },
      { revision: 'old', ready: 4, total: 4, role: 'stable' },
    ]);
  });

  it('withRollout replaces one rollout from the watch, keeping release numbers and the stable digest it cannot see', () => {
    const board = buildBoard('hello', [
      input('dev', digest('b')),
      input('prod', digest('a'), rollout(digest('a'), digest('9'), 1, 20)),
    ]);
    const next = withRollout(board, 'prod', rollout(digest('a'), null, 2, 50));
    expect(next.cards[0]).toBe(board.cards[0]);
    expect(next.cards[1]?.rollout).toMatchObject({
      step: { current: 2, total: 6 },
      canaryWeight: 50,
      stableWeight: 50,
    });
    expect(next.cards[1]?.rollout?.stable.digest).toEqual(board.cards[1]?.rollout?.stable.digest);
    expect(next.cards[1]?.rollout?.canary.digest?.release).toBe(2);
    // A digest the board has not seen gets the next number.
    const other = withRollout(board, 'prod', rollout(digest('c'), null, 0, 20));
    expect(other.cards[1]?.rollout?.canary.digest?.release).toBe(4);
  });
});
