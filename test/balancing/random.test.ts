import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { random } from '../../src/balancing/index.js';
import type { Endpoint } from '../../src/core/endpoint.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import { endpoints, newCall, pickCost, tally } from './support.js';

describe('random', () => {
  it('spreads picks about evenly', () => {
    const picker = random().create({ service: 's', clock: new VirtualClock(0, 7) }).update(endpoints(5));
    const counts = tally(Array.from({ length: 10_000 }, () => picker.pick(newCall())));
    assert.equal(counts.size, 5);
    for (const n of counts.values()) assert.ok(n > 1700 && n < 2300, `count ${n} far from 2000`);
  });

  it('avoids tried endpoints while others remain (property)', () => {
    fc.assert(fc.property(fc.integer({ min: 2, max: 30 }), fc.integer(), (count, seed) => {
      const list = endpoints(count);
      const picker = random().create({ service: 's', clock: new VirtualClock(0, seed) }).update(list);
      const tried: Endpoint[] = [];
      const call = newCall(undefined, tried);
      for (let i = 0; i < count; i++) {
        const picked = picker.pick(call) as Endpoint;
        assert.ok(!tried.includes(picked));
        tried.push(picked);
      }
      assert.ok(picker.pick(call) !== undefined, 'falls back to a tried endpoint when all were tried');
    }));
  });

  it('touches one element per pick and calls no clock at any size; undefined for an empty set', () => {
    for (const size of [10, 10_000]) assert.deepEqual(pickCost(random(), size), { readsPerPick: 1, randomCalls: 0, nowCalls: 0 }, `size ${size}`);
    assert.equal(random().create({ service: 's', clock: new VirtualClock() }).update([]).pick(newCall()), undefined);
  });
});
