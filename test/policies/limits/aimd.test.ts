import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isMeshkitError } from '../../../src/index.js';
import { aimd } from '../../../src/policies/limits/aimd.js';
import { VirtualClock } from '../../../src/testing/virtual-clock.js';

const clock = new VirtualClock();

describe('aimd', () => {
  it('has the Netflix AIMDLimit defaults', () => {
    const a = aimd();
    assert.deepEqual([a.initialLimit, a.minLimit, a.maxLimit, a.backoffRatio, a.timeout], [20, 20, 200, 0.9, 5000]);
  });

  it('adds one per sample while busy and multiplies by backoffRatio on a drop', () => {
    const limit = aimd({ minLimit: 1, initialLimit: 10 }).create(clock);
    assert.deepEqual([1, 2, 3].map(() => limit.update(10, 10, false)), [11, 12, 13]);
    assert.equal(limit.update(10, 10, true), 11); // floor(13 * 0.9)
    assert.equal(limit.update(10, 3, false), 11); // app-limited: 3 * 2 < 11
  });

  it('treats a call slower than the timeout as a drop', () => {
    const limit = aimd({ minLimit: 1, initialLimit: 10, timeout: '1s' }).create(clock);
    assert.equal(limit.update(1001, 10, false), 9);
    assert.equal(limit.update(1000, 10, false), 10);
  });

  it('queueing(): only a call slower than the timeout (AIMD knows no baseline)', () => {
    const limit = aimd({ timeout: '1s' }).create(clock);
    assert.deepEqual([limit.queueing?.(1000), limit.queueing?.(1001)], [false, true]);
  });

  it('respects minLimit and maxLimit', () => {
    const limit = aimd({ minLimit: 3, initialLimit: 5, maxLimit: 8, backoffRatio: 0.5 }).create(clock);
    for (let i = 0; i < 10; i++) limit.update(1, 100, false);
    assert.equal(limit.limit, 8);
    for (let i = 0; i < 10; i++) limit.update(1, 100, true);
    assert.equal(limit.limit, 3);
  });

  it('property: the limit stays an integer within [minLimit, maxLimit]', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 50 }), fc.integer({ min: 0, max: 100 }), fc.double({ min: 0.5, max: 0.99, noNaN: true }),
      fc.array(fc.tuple(fc.double({ min: 0, max: 1e4, noNaN: true }), fc.integer({ min: 0, max: 300 }), fc.boolean()), { maxLength: 300 }),
      (min, span, backoffRatio, samples) => {
        const limit = aimd({ minLimit: min, maxLimit: min + span, initialLimit: min, backoffRatio }).create(clock);
        for (const [rtt, inFlight, dropped] of samples) {
          const value = limit.update(rtt, inFlight, dropped);
          assert.ok(Number.isInteger(value) && value >= min && value <= min + span, `${value}`);
        }
      },
    ));
  });

  it('rejects bad options, naming them', () => {
    for (const [options, option] of [
      [{ backoffRatio: 1 }, 'aimd.backoffRatio'], [{ backoffRatio: 0.4 }, 'aimd.backoffRatio'],
      [{ timeout: 0 }, 'aimd.timeout'], [{ initialLimit: 300 }, 'aimd.initialLimit'],
    ] as const) {
      assert.throws(() => aimd(options as never), (e: unknown) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === option, option);
    }
  });
});
