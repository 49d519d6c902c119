import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isMeshkitError } from '../../../src/index.js';
import { log10Root, vegas } from '../../../src/policies/limits/vegas.js';
import { VirtualClock } from '../../../src/testing/virtual-clock.js';

describe('vegas', () => {
  it('has the Netflix VegasLimit defaults, with log10-based thresholds', () => {
    const v = vegas();
    assert.deepEqual([v.initialLimit, v.minLimit, v.maxLimit, v.smoothing, v.probeMultiplier], [20, 1, 1000, 1, 30]);
    assert.deepEqual([log10Root(1), log10Root(99), log10Root(100), log10Root(999), log10Root(1000)], [1, 1, 2, 2, 3]);
    assert.deepEqual([v.alpha(20), v.beta(20), v.threshold(20)], [3, 6, 1]);
    assert.deepEqual([v.alpha(500), v.beta(500), v.threshold(500)], [6, 12, 2]);
  });

  it('learns the no-load RTT, then grows fast while there is no queue', () => {
    const limit = vegas({ probeMultiplier: 1000 }).create(new VirtualClock());
    assert.equal(limit.update(10, 20, false), 20); // first sample: the no-load RTT
    // queue = ceil(20 * (1 - 10/10)) = 0 <= threshold 1: limit + beta (6).
    assert.equal(limit.update(10, 20, false), 26);
    assert.equal(limit.update(10, 26, false), 32);
  });

  it('applies queue = ceil(limit * (1 - rttNoLoad / rtt)) against alpha and beta', () => {
    const limit = vegas({ initialLimit: 50, probeMultiplier: 1000 }).create(new VirtualClock());
    limit.update(10, 50, false);
    // queue = ceil(50 * (1 - 10/10.5)) = 3: above threshold 1, not below alpha 3, not above beta 6: unchanged.
    assert.equal(limit.update(10.5, 50, false), 50);
    // queue = ceil(50 * (1 - 10/10.4)) = 2 < alpha 3: + log10(50) = 1.
    assert.equal(limit.update(10.4, 50, false), 51);
    // queue = ceil(51 * (1 - 10/20)) = 26 > beta 6: - 1.
    assert.equal(limit.update(20, 51, false), 50);
  });

  it('queueing(): an estimated queue above beta, judged before the sample is fed; false without a no-load RTT', () => {
    const limit = vegas({ initialLimit: 50, probeMultiplier: 1000 }).create(new VirtualClock());
    assert.equal(limit.queueing?.(1000), false, 'no baseline yet');
    limit.update(10, 50, false);
    // queue = ceil(50 * (1 - 10/11)) = 5 <= beta 6: Vegas holds or grows, no evidence of queueing.
    assert.equal(limit.queueing?.(11), false);
    assert.equal(limit.queueing?.(9), false, 'faster than the baseline');
    // queue = ceil(50 * (1 - 10/12)) = 9 > beta 6: Vegas lowers the limit.
    assert.equal(limit.queueing?.(12), true);
    assert.equal(limit.update(12, 50, false), 49, 'the same verdict as update');
  });

  it('shrinks on drops and when latency rises, and respects minLimit and maxLimit', () => {
    const limit = vegas({ initialLimit: 10, minLimit: 8, maxLimit: 30, probeMultiplier: 1000 }).create(new VirtualClock());
    limit.update(10, 10, false);
    for (let i = 0; i < 20; i++) limit.update(10, 100, false);
    assert.equal(limit.limit, 30);
    for (let i = 0; i < 10; i++) limit.update(10, 100, true);
    assert.equal(limit.limit, 20);
    // queue = ceil(limit * 0.8) > beta 6: one less per sample, down to minLimit.
    for (let i = 0; i < 40; i++) limit.update(50, 100, false);
    assert.equal(limit.limit, 8);
  });

  it('does not grow while fewer than half of the limit are in flight', () => {
    const limit = vegas({ probeMultiplier: 1000 }).create(new VirtualClock());
    limit.update(10, 20, false);
    for (let i = 0; i < 10; i++) limit.update(10, 9, false);
    assert.equal(limit.limit, 20);
  });

  it('re-probes the no-load RTT after about probeMultiplier * limit samples (jitter from the clock)', () => {
    const limit = vegas({ initialLimit: 10, probeMultiplier: 2 }).create(new VirtualClock(0, 7)) as unknown as { update: (r: number, f: number, d: boolean) => number; rttNoLoad: number };
    limit.update(10, 1, false);
    let probedAt = 0;
    for (let i = 2; i <= 30 && probedAt === 0; i++) {
      limit.update(50, 1, false); // app-limited: the limit stays 10
      if (limit.rttNoLoad === 50) probedAt = i;
    }
    // 0.5-1 x 2 x 10 = 10-20 samples.
    assert.ok(probedAt >= 10 && probedAt <= 20, `probed at sample ${probedAt}`);
  });

  it('property: the limit stays an integer within [minLimit, maxLimit]', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 50 }), fc.integer({ min: 0, max: 500 }), fc.double({ min: 0.01, max: 1, noNaN: true }),
      fc.array(fc.tuple(fc.double({ min: 0, max: 1e5, noNaN: true }), fc.integer({ min: 0, max: 1000 }), fc.boolean()), { maxLength: 300 }),
      (min, span, smoothing, samples) => {
        const limit = vegas({ minLimit: min, maxLimit: min + span, initialLimit: min, smoothing }).create(new VirtualClock());
        for (const [rtt, inFlight, dropped] of samples) {
          const value = limit.update(rtt, inFlight, dropped);
          assert.ok(Number.isInteger(value) && value >= min && value <= min + span, `${value}`);
        }
      },
    ));
  });

  it('rejects bad options, naming them', () => {
    for (const [options, option] of [
      [{ alpha: 'x' }, 'vegas.alpha'], [{ beta: -1 }, 'vegas.beta'], [{ threshold: NaN }, 'vegas.threshold'],
      [{ probeMultiplier: 0 }, 'vegas.probeMultiplier'], [{ smoothing: 2 }, 'vegas.smoothing'], [{ maxLimit: 0 }, 'vegas.maxLimit'],
    ] as const) {
      assert.throws(() => vegas(options as never), (e: unknown) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === option, option);
    }
  });
});
