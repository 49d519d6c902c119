import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isMeshkitError } from '../../../src/index.js';
import { gradient2 } from '../../../src/policies/limits/gradient2.js';
import { VirtualClock } from '../../../src/testing/virtual-clock.js';

const clock = new VirtualClock();

describe('gradient2', () => {
  it('has the Netflix Gradient2Limit defaults', () => {
    const g = gradient2();
    assert.deepEqual(
      { initial: g.initialLimit, min: g.minLimit, max: g.maxLimit, smoothing: g.smoothing, queue: g.queueSize(20), tolerance: g.rttTolerance, long: g.longWindow },
      { initial: 20, min: 20, max: 200, smoothing: 0.2, queue: 4, tolerance: 1.5, long: 600 },
    );
    assert.equal(g.create(clock).limit, 20);
  });

  it('grows by queueSize * smoothing per sample while latency stays low', () => {
    const limit = gradient2({ minLimit: 1, initialLimit: 10 }).create(clock);
    const seen: number[] = [];
    for (let i = 0; i < 10; i++) seen.push(limit.update(10, 10, false));
    // 10 -> 10.8 -> 11.6 -> ... : +0.8 per sample (4 * 0.2), reported rounded down.
    assert.deepEqual(seen, [10, 11, 12, 13, 14, 14, 15, 16, 17, 18]);
  });

  it('applies newLimit = limit * gradient + queueSize, smoothed, with gradient = clamp(1.5 * long / short, 0.5, 1)', () => {
    const limit = gradient2({ minLimit: 1, initialLimit: 100, maxLimit: 1000 }).create(clock);
    for (let i = 0; i < 10; i++) limit.update(10, 100, false); // long RTT 10 (warm-up average)
    const before = 100 + 10 * 0.8; // 108 after ten samples at gradient 1
    // A sample of 30 ms: long RTT becomes 10 + (30 - 10) * 2/601, gradient = 1.5 * long / 30.
    const longRtt = 10 + (20 * 2) / 601;
    const gradient = (1.5 * longRtt) / 30;
    const expected = before * 0.8 + (before * gradient + 4) * 0.2;
    assert.equal(limit.update(30, 100, false), Math.floor(expected));
  });

  it('shrinks when latency rises, by at most half per sample before smoothing', () => {
    const limit = gradient2({ minLimit: 1, initialLimit: 100, maxLimit: 200 }).create(clock);
    for (let i = 0; i < 10; i++) limit.update(10, 100, false);
    let previous = limit.limit;
    for (let i = 0; i < 10; i++) {
      const next = limit.update(100, 200, false); // 10x slower: gradient clamps at 0.5
      assert.ok(next < previous, `${next} < ${previous}`);
      assert.ok(next >= Math.floor(previous * 0.9), 'at most 10 % (0.5 gradient * 0.2 smoothing) per sample');
      previous = next;
    }
  });

  it('tolerates latency up to rttTolerance times the long RTT', () => {
    const limit = gradient2({ minLimit: 1, initialLimit: 50 }).create(clock);
    for (let i = 0; i < 10; i++) limit.update(10, 50, false);
    const before = limit.limit;
    for (let i = 0; i < 5; i++) limit.update(14, 50, false); // 1.4x: still within 1.5x
    assert.ok(limit.limit > before);
  });

  it('queueing(): slower than rttTolerance times the long RTT; false before the first sample', () => {
    const limit = gradient2({ minLimit: 1, initialLimit: 50 }).create(clock);
    assert.equal(limit.queueing?.(1000), false);
    for (let i = 0; i < 10; i++) limit.update(10, 50, false);
    assert.equal(limit.queueing?.(15), false, '1.5x: within tolerance');
    assert.equal(limit.queueing?.(15.1), true);
  });

  it('does not move while fewer than half of the limit are in flight (app-limited)', () => {
    const limit = gradient2({ minLimit: 1, initialLimit: 40 }).create(clock);
    for (let i = 0; i < 50; i++) limit.update(i % 2 === 0 ? 10 : 100, 19, false);
    assert.equal(limit.limit, 40);
  });

  it('respects minLimit and maxLimit', () => {
    const limit = gradient2({ minLimit: 5, initialLimit: 10, maxLimit: 12, queueSize: 1 }).create(clock);
    for (let i = 0; i < 50; i++) limit.update(10, 100, false);
    assert.equal(limit.limit, 12);
    for (let i = 0; i < 30; i++) limit.update(1000, 100, false);
    assert.equal(limit.limit, 5);
  });

  it('cannot shrink below 2 * queueSize: at the 0.5 gradient floor, queueSize is added back', () => {
    const limit = gradient2({ minLimit: 1, initialLimit: 40 }).create(clock);
    for (let i = 0; i < 10; i++) limit.update(10, 100, false);
    for (let i = 0; i < 60; i++) limit.update(1000, 100, false);
    assert.equal(limit.limit, 8);
  });

  it('smoothing 1 jumps straight to the estimate', () => {
    const limit = gradient2({ minLimit: 1, initialLimit: 100, smoothing: 1 }).create(clock);
    for (let i = 0; i < 10; i++) limit.update(10, 100, false);
    // Each of the 10 samples added queueSize 4 in full.
    assert.equal(limit.limit, 140);
    // Long RTT ~10.03, short 60: gradient 1.5 * 10.03 / 60 = 0.2508 -> clamped to 0.5.
    assert.equal(limit.update(60, 140, false), Math.floor(140 * 0.5 + 4));
  });

  it('pulls the long RTT back when it is over twice the current RTT', () => {
    const limit = gradient2({ minLimit: 1 }).create(clock) as unknown as { update: (r: number, f: number, d: boolean) => number; longRtt: number };
    for (let i = 0; i < 10; i++) limit.update(100, 100, false);
    limit.update(10, 100, false);
    const expected = (100 + (10 - 100) * (2 / 601)) * 0.95;
    assert.ok(Math.abs(limit.longRtt - expected) < 1e-9, `${limit.longRtt} ~ ${expected}`);
  });

  it('property: the limit stays an integer within [minLimit, maxLimit]', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 50 }), fc.integer({ min: 0, max: 100 }), fc.double({ min: 0.01, max: 1, noNaN: true }),
      fc.array(fc.tuple(fc.double({ min: 0, max: 1e5, noNaN: true }), fc.integer({ min: 0, max: 500 }), fc.boolean()), { maxLength: 300 }),
      (min, span, smoothing, samples) => {
        const limit = gradient2({ minLimit: min, maxLimit: min + span, initialLimit: min, smoothing }).create(clock);
        for (const [rtt, inFlight, dropped] of samples) {
          const value = limit.update(rtt, inFlight, dropped);
          assert.ok(Number.isInteger(value) && value >= min && value <= min + span, `${value}`);
        }
      },
    ));
  });

  it('rejects bad options, naming them', () => {
    for (const [options, option] of [
      [{ minLimit: 0 }, 'gradient2.minLimit'], [{ maxLimit: 1.5 }, 'gradient2.maxLimit'],
      [{ minLimit: 50, maxLimit: 10 }, 'gradient2.minLimit'], [{ initialLimit: 5 }, 'gradient2.initialLimit'],
      [{ smoothing: 0 }, 'gradient2.smoothing'], [{ smoothing: 1.5 }, 'gradient2.smoothing'],
      [{ rttTolerance: 0.9 }, 'gradient2.rttTolerance'], [{ queueSize: -1 }, 'gradient2.queueSize'],
      [{ longWindow: 0 }, 'gradient2.longWindow'], [{ tolerance: 2 }, 'gradient2.tolerance'], [null, 'gradient2'],
    ] as const) {
      assert.throws(() => gradient2(options as never), (e: unknown) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === option, option);
    }
  });
});
