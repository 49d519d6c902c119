import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CHANCE_SCALE, chanceThreshold, PickRandom } from '../../src/balancing/pick-random.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';

const seed = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

describe('PickRandom', () => {
  it('is reproducible from its seed, and one seed from the clock is all it takes', () => {
    const draws = (random: PickRandom): number[] => Array.from({ length: 50 }, () => random.index(1000));
    assert.deepEqual(draws(new PickRandom(0.25)), draws(new PickRandom(0.25)));
    assert.notDeepEqual(draws(new PickRandom(0.25)), draws(new PickRandom(0.5)));
    assert.deepEqual(draws(PickRandom.from(new VirtualClock(0, 9))), draws(PickRandom.from(new VirtualClock(0, 9))));
  });

  it('index(count) is an integer in [0, count) for any seed and count (property)', () => {
    fc.assert(fc.property(seed, fc.integer({ min: 1, max: CHANCE_SCALE }), (s, count) => {
      const random = new PickRandom(s);
      for (let i = 0; i < 50; i++) {
        const index = random.index(count);
        assert.ok(Number.isInteger(index) && index >= 0 && index < count, `${index} of ${count}`);
      }
    }));
  });

  it('indexBesides(not, count) never returns `not` and reaches every other index (property)', () => {
    fc.assert(fc.property(seed, fc.integer({ min: 2, max: 12 }), fc.nat(), (s, count, n) => {
      const not = n % count;
      const random = new PickRandom(s);
      const seen = new Set<number>();
      for (let i = 0; i < 400; i++) {
        const index = random.indexBesides(not, count);
        assert.ok(index !== not && index >= 0 && index < count);
        seen.add(index);
      }
      assert.equal(seen.size, count - 1);
    }));
  });

  it('spreads index() evenly: every bucket within 5 standard deviations of its expected count', () => {
    for (const s of [0, 0.1, 0.5, 0.999]) {
      const random = new PickRandom(s);
      const buckets = new Array<number>(10).fill(0);
      const n = 100_000;
      for (let i = 0; i < n; i++) buckets[random.index(10)]! += 1;
      const sd = Math.sqrt(n * 0.1 * 0.9);
      for (const count of buckets) assert.ok(Math.abs(count - n / 10) < 5 * sd, `seed ${s}: ${buckets.join(', ')}`);
    }
  });

  it('consecutive draws are unrelated: pairs fill a 10 x 10 grid evenly', () => {
    const random = new PickRandom(0.3);
    const grid = new Array<number>(100).fill(0);
    const n = 200_000;
    for (let i = 0; i < n; i++) grid[random.index(10) * 10 + random.index(10)]! += 1;
    const sd = Math.sqrt(n * 0.01 * 0.99);
    for (const count of grid) assert.ok(Math.abs(count - n / 100) < 5 * sd, `cell count ${count}, expected about ${n / 100}`);
  });

  it('chance(threshold) is never for 0, always for CHANCE_SCALE, and about p for chanceThreshold(p)', () => {
    const random = new PickRandom(0.7);
    for (let i = 0; i < 10_000; i++) {
      assert.equal(random.chance(0), false);
      assert.equal(random.chance(CHANCE_SCALE), true);
    }
    assert.deepEqual([chanceThreshold(-1), chanceThreshold(0), chanceThreshold(1), chanceThreshold(2)], [0, 0, CHANCE_SCALE, CHANCE_SCALE]);
    for (const p of [0.01, 0.3, 0.5, 0.9]) {
      const n = 50_000;
      let hits = 0;
      for (let i = 0; i < n; i++) if (random.chance(chanceThreshold(p))) hits++;
      const sd = Math.sqrt(n * p * (1 - p));
      assert.ok(Math.abs(hits - n * p) < 5 * sd, `p ${p}: ${hits} of ${n}`);
    }
  });

  it('keeps every draw and threshold a small integer (what V8 never boxes): below 2^30', () => {
    fc.assert(fc.property(seed, fc.double({ min: 0, max: 1, noNaN: true }), (s, p) => {
      const threshold = chanceThreshold(p);
      assert.ok(Number.isInteger(threshold) && threshold >= 0 && threshold < 2 ** 30);
      const random = new PickRandom(s);
      for (let i = 0; i < 20; i++) assert.ok(random.index(CHANCE_SCALE) < 2 ** 30);
    }));
  });
});
