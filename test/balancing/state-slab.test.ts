import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { peakEwma } from '../../src/balancing/index.js';
import { StateSlab } from '../../src/balancing/state-slab.js';
import type { Endpoint } from '../../src/core/endpoint.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import { endpoints, newCall, observe } from './support.js';

describe('StateSlab', () => {
  it('hands out distinct slots, reuses released ones, and keeps values across growth (property)', () => {
    fc.assert(fc.property(fc.array(fc.boolean(), { maxLength: 200 }), (steps) => {
      const slab = new StateSlab(2);
      const live = new Map<number, number>();
      steps.forEach((take, i) => {
        if (take || live.size === 0) {
          const slot = slab.take();
          assert.ok(!live.has(slot), `slot ${slot} handed out twice`);
          slab.values[slot] = i;
          live.set(slot, i);
        } else {
          const [slot] = live.keys() as IterableIterator<number>;
          slab.release(slot as number);
          live.delete(slot as number);
        }
        for (const [slot, value] of live) assert.equal(slab.values[slot], value);
        assert.equal(slab.size, live.size);
      });
      assert.ok(slab.values.length <= Math.max(2, 2 * steps.length), 'grows by doubling, no further');
    }));
  });

  it('follows the set in peak EWMA: a slot per current endpoint, given back when one leaves', () => {
    const clock = new VirtualClock(0, 3);
    const list = endpoints(40);
    const balancer = peakEwma().create({ service: 's', clock });
    balancer.update(list);
    for (const endpoint of list) observe(balancer, endpoint, 5);
    // Thirty leave and ten others join: slots are reused, so the slab does not grow with churn.
    let picker = balancer.update([...list.slice(0, 10), ...endpoints(50).slice(40)]);
    for (let round = 0; round < 20; round++) picker = balancer.update(round % 2 === 0 ? list : list.slice(0, 5));
    // Estimates of endpoints that stayed are intact: the slow one is avoided.
    observe(balancer, list[0] as Endpoint, 500);
    for (let i = 0; i < 200; i++) assert.notEqual(picker.pick(newCall()), list[0]);
  });
});
