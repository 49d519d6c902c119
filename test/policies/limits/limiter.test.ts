import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isMeshkitError } from '../../../src/index.js';
import { aimd } from '../../../src/policies/limits/aimd.js';
import { gradient2 } from '../../../src/policies/limits/gradient2.js';
import type { Limit, LimitAlgorithm } from '../../../src/policies/limits/limit.js';
import { ConcurrencyLimiter } from '../../../src/policies/limits/limiter.js';
import { vegas } from '../../../src/policies/limits/vegas.js';
import { VirtualClock } from '../../../src/testing/virtual-clock.js';

/** An algorithm that records what it is fed and keeps a fixed limit. */
function recording(limit = 3): { algorithm: LimitAlgorithm; samples: [number, number, boolean][] } {
  const samples: [number, number, boolean][] = [];
  const state: Limit = { limit, update: (rtt, inFlight, dropped) => (samples.push([rtt, inFlight, dropped]), limit) };
  return { algorithm: { name: 'recording', initialLimit: limit, minLimit: limit, maxLimit: limit, create: () => state }, samples };
}

describe('ConcurrencyLimiter', () => {
  it('admits up to the limit, refuses the rest at once, and counts in flight', () => {
    const clock = new VirtualClock();
    const { algorithm } = recording(3);
    const limiter = new ConcurrencyLimiter({ algorithm, clock, window: false });
    assert.deepEqual([limiter.tryAcquire(), limiter.tryAcquire(), limiter.tryAcquire(), limiter.tryAcquire()], [1, 2, 3, 0]);
    assert.equal(limiter.inFlight, 3);
    limiter.release(0, 1, 'ignore');
    assert.equal(limiter.inFlight, 2);
    assert.equal(limiter.tryAcquire(), 3);
    assert.equal(limiter.limit, 3);
  });

  it('without windows feeds every sample: RTT from admission, in flight at admission, drops', async () => {
    const clock = new VirtualClock();
    const { algorithm, samples } = recording(10);
    const limiter = new ConcurrencyLimiter({ algorithm, clock, window: false });
    const n1 = limiter.tryAcquire();
    const n2 = limiter.tryAcquire();
    await clock.advance(30);
    limiter.release(0, n1, 'success');
    await clock.advance(20);
    limiter.release(10, n2, 'dropped');
    limiter.release(0, 1, 'ignore');
    assert.deepEqual(samples, [[30, 1, false], [40, 2, true]]);
  });

  it('windows samples: average RTT, largest in-flight, any drop; twice the smallest RTT within [minTime, maxTime]', async () => {
    const clock = new VirtualClock();
    const { algorithm, samples } = recording(100);
    const limiter = new ConcurrencyLimiter({ algorithm, clock, window: { minTime: 100, maxTime: 300, minSamples: 3 } });
    const run = (startedAt: number, inFlight: number, signal: 'success' | 'dropped'): void => {
      limiter.tryAcquire();
      limiter.release(startedAt, inFlight, signal);
    };
    await clock.advance(50);
    run(0, 4, 'success'); // rtt 50
    run(40, 7, 'dropped'); // rtt 10
    await clock.advance(50); // t = 100: the window has lasted 100 ms
    assert.deepEqual(samples, []);
    run(70, 2, 'success'); // rtt 30, third sample: the window closes
    assert.deepEqual(samples, [[30, 7, true]]);
    // Next window: 2 x the smallest RTT (10) = 20, clamped to minTime 100.
    await clock.advance(99);
    for (let i = 0; i < 3; i++) run(clock.now() - 200, 1, 'success');
    assert.equal(samples.length, 1);
    await clock.advance(1);
    run(clock.now() - 200, 1, 'success');
    assert.deepEqual(samples[1], [200, 1, false]);
    // Next window: 2 x 200 = 400, clamped to maxTime 300.
    await clock.advance(299);
    for (let i = 0; i < 3; i++) run(clock.now() - 5, 1, 'success');
    assert.equal(samples.length, 2);
    await clock.advance(1);
    run(clock.now() - 5, 1, 'success');
    assert.equal(samples.length, 3);
  });

  it('a window waits for minSamples however long it lasts', async () => {
    const clock = new VirtualClock();
    const { algorithm, samples } = recording(10);
    const limiter = new ConcurrencyLimiter({ algorithm, clock });
    for (let i = 0; i < 9; i++) {
      await clock.advance(1000);
      limiter.tryAcquire();
      limiter.release(clock.now() - 10, 1, 'success');
    }
    assert.equal(samples.length, 0);
    limiter.tryAcquire();
    limiter.release(clock.now() - 10, 1, 'success');
    assert.deepEqual(samples, [[10, 1, false]]);
  });

  it('the admission limit follows the algorithm', async () => {
    const clock = new VirtualClock();
    const limiter = new ConcurrencyLimiter({ algorithm: aimd({ minLimit: 1, initialLimit: 2 }), clock, window: false });
    const a = limiter.tryAcquire();
    const b = limiter.tryAcquire();
    assert.equal(limiter.tryAcquire(), 0);
    limiter.release(0, a, 'success'); // 2 in flight >= 2 / 2: +1
    limiter.release(0, b, 'success');
    assert.equal(limiter.limit, 4);
    limiter.release(0, limiter.tryAcquire(), 'dropped');
    assert.equal(limiter.limit, 3);
  });

  it('property: limit within [min, max] and in flight never above the limit at admission, for every algorithm', async () => {
    await fc.assert(fc.asyncProperty(
      fc.constantFrom('gradient2', 'vegas', 'aimd'), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 0, max: 40 }), fc.boolean(),
      fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 500 }), fc.constantFrom('success', 'dropped', 'ignore')), { maxLength: 200 }),
      async (name, min, span, windowed, steps) => {
        const clock = new VirtualClock();
        const options = { minLimit: min, maxLimit: min + span, initialLimit: min };
        const algorithm = name === 'gradient2' ? gradient2(options) : name === 'vegas' ? vegas(options) : aimd(options);
        const limiter = new ConcurrencyLimiter({ algorithm, clock, window: windowed ? { minTime: 10, minSamples: 2 } : false });
        const open: [number, number][] = [];
        for (const [acquire, wait, signal] of steps) {
          if (acquire || open.length === 0) {
            const n = limiter.tryAcquire();
            if (n > 0) {
              assert.ok(n <= limiter.limit);
              open.push([clock.now(), n]);
            } else assert.ok(limiter.inFlight >= limiter.limit);
          } else {
            const [startedAt, n] = open.shift() as [number, number];
            await clock.advance(wait);
            limiter.release(startedAt, n, signal);
          }
          assert.ok(limiter.limit >= min && limiter.limit <= min + span && Number.isInteger(limiter.limit));
          assert.equal(limiter.inFlight, open.length);
        }
      },
    ), { numRuns: 200 });
  });

  it('rejects bad options, naming them', () => {
    for (const [options, option] of [
      [{ algorithm: {} }, 'limiter.algorithm'], [{ clock: {} }, 'limiter.clock'], [{ window: { minTime: 'soon' } }, 'limiter.window.minTime'],
      [{ window: { minTime: 500, maxTime: 100 } }, 'limiter.window.maxTime'], [{ window: { minSamples: 0 } }, 'limiter.window.minSamples'],
      [{ window: { size: 3 } }, 'limiter.window.size'], [{ limit: 3 }, 'limiter.limit'],
    ] as const) {
      assert.throws(() => new ConcurrencyLimiter(options as never), (e: unknown) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === option, option);
    }
  });
});
