import { describe, expect, it } from 'vitest';
import { approximateSplit, basicCanaryCounts, fenceposts, scaleDownOld } from './replica-math.js';

// Argo Rollouts v1.9.1 utils/replicaset/canary.go: examples from CalculateReplicaCountsForBasicCanary's
// doc comment, with the stable ReplicaSet fully available and no canary pods yet. (Its example
// "replicas 10 weight 5 maxUnavailable 1 surge 1 → 1/9" predates approximateWeightedCanaryStableReplicaCounts:
// the code picks 1/10, 9.1 % being closer to 5 % than 10 %; canary_test.go's cases follow the code.)
describe('CalculateReplicaCountsForBasicCanary (the doc comment examples)', () => {
  it.each([
    [10, 10, 1, 1, 1, 9],
    [10, 30, 0, 3, 3, 10],
    [10, 30, 5, 0, 0, 7],
    [1, 5, 0, 1, 1, 1],
    [1, 95, 0, 1, 1, 1],
  ])(
    'replicas %i weight %i maxUnavailable %i maxSurge %i → new %i stable %i',
    (replicas, weight, unavailable, surge, newRS, stableRS) => {
      const stable = { replicas, created: replicas, available: replicas };
      const counts = basicCanaryCounts({
        replicas,
        weight,
        surge,
        unavailable,
        newRS: { replicas: 0, created: 0, available: 0 },
        stableRS: stable,
        others: [],
      });
      expect(counts).toEqual({ newRS, stableRS });
    },
  );
});

// canary_test.go TestCalculateReplicaCountsForCanary: "Do not round past maxSurge with uneven
// setWeight divisor" and its part 2.
describe('CalculateReplicaCountsForBasicCanary (canary_test.go cases)', () => {
  it.each([
    [10, 0, 9, 0],
    [9, 0, 9, 1],
  ])(
    'replicas 10 weight 5 surge 0 unavailable 1, stable %i canary %i → stable %i canary %i',
    (stable, canary, stableRS, newRS) => {
      const counts = basicCanaryCounts({
        replicas: 10,
        weight: 5,
        surge: 0,
        unavailable: 1,
        newRS: { replicas: canary, created: canary, available: canary },
        stableRS: { replicas: stable, created: stable, available: stable },
        others: [],
      });
      expect(counts).toEqual({ newRS, stableRS });
    },
  );
});

describe('approximateWeightedCanaryStableReplicaCounts and resolveFenceposts', () => {
  it('a tie rounds the canary up; 1–99 % never rounds to zero pods with 2+ replicas', () => {
    expect(approximateSplit(3, 50, 0)).toEqual({ canary: 2, stable: 1 });
    expect(approximateSplit(5, 20, 1)).toEqual({ canary: 1, stable: 4 });
    expect(approximateSplit(10, 1, 0)).toEqual({ canary: 1, stable: 9 });
  });
  it('25 % defaults (a bare number string is a percentage to Argo), surge rounds up, unavailable down, never both zero', () => {
    expect(fenceposts(5)).toEqual({ surge: 2, unavailable: 1 });
    expect(fenceposts(5, '25', '25')).toEqual({ surge: 2, unavailable: 1 });
    expect(fenceposts(2, 1, 0)).toEqual({ surge: 1, unavailable: 0 });
    expect(fenceposts(1, '10%', '10%')).toEqual({ surge: 1, unavailable: 0 });
    expect(fenceposts(3, 0, 0)).toEqual({ surge: 0, unavailable: 1 });
  });
  it('scaleDownOldReplicaSetsForCanary: unavailable old pods go at once, available ones within maxUnavailable, newest first', () => {
    // 5 wanted, maxUnavailable 0, 5 new available: both old ReplicaSets can go.
    expect(
      scaleDownOld(
        [
          { replicas: 2, created: 2, available: 1 },
          { replicas: 3, created: 3, available: 3 },
        ],
        9,
        5,
      ),
    ).toEqual([0, 0]);
    // Only 6 available in all, 5 must stay: one pod of the newest old ReplicaSet goes.
    expect(
      scaleDownOld(
        [
          { replicas: 2, created: 2, available: 2 },
          { replicas: 3, created: 3, available: 3 },
        ],
        6,
        5,
      ),
    ).toEqual([2, 2]);
  });
});
