import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { leastRequest } from '../../src/balancing/index.js';
import { toEndpoint, type Endpoint } from '../../src/core/endpoint.js';
import { isMeshkitError } from '../../src/core/errors.js';
import { Outcomes } from '../../src/core/outcome.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import { endpoints, load, newCall, permutation, pickCost, tally } from './support.js';

describe('leastRequest', () => {
  it('never picks the worse of two: the most loaded endpoint never wins, and of two the less loaded always does (property)', () => {
    fc.assert(fc.property(permutation(), fc.integer(), (order, seed) => {
      const count = order.length;
      const list = endpoints(count);
      const balancer = leastRequest().create({ service: 's', clock: new VirtualClock(0, seed) });
      const picker = balancer.update(list);
      list.forEach((endpoint, i) => load(balancer, endpoint, order[i] as number));
      const busiest = list[order.indexOf(count - 1)] as Endpoint;
      const idlest = list[order.indexOf(0)] as Endpoint;
      for (let i = 0; i < 200; i++) {
        const picked = picker.pick(newCall());
        assert.notEqual(picked, busiest);
        if (count === 2) assert.equal(picked, idlest);
      }
    }));
  });

  it('two choices on 10,000 endpoints cost what they cost on 10: one element read per pick, no clock call', () => {
    for (const factory of [leastRequest(), leastRequest({ choices: 3 })]) {
      for (const size of [10, 10_000]) {
        assert.deepEqual(pickCost(factory, size), { readsPerPick: 1, randomCalls: 0, nowCalls: 0 }, `size ${size}`);
      }
    }
  });

  it('counts in flight by endpoint id across set updates, and forgets endpoints that left', () => {
    const clock = new VirtualClock(0, 9);
    const balancer = leastRequest().create({ service: 's', clock });
    const [a, b] = endpoints(2) as [Endpoint, Endpoint];
    balancer.update([a, b]);
    const aAttempts = load(balancer, a, 3);
    load(balancer, b, 5);
    // New objects for the same instances (discovery re-resolved), and b gone.
    const a2 = toEndpoint(a.id, 'e');
    const c = toEndpoint('127.0.0.1:2000', 'e');
    let picker = balancer.update([a2, c]);
    for (let i = 0; i < 50; i++) assert.equal(picker.pick(newCall()), c, 'a still has 3 in flight');
    for (const attempt of aAttempts) balancer.onAttemptEnd?.(attempt, Outcomes.success, 1);
    load(balancer, c, 1);
    for (let i = 0; i < 50; i++) assert.equal(picker.pick(newCall()), a2, 'a drained');
    // b returns with a fresh count (its 5 left with it), and ending an unknown attempt is harmless.
    const b2 = toEndpoint(b.id, 'e');
    picker = balancer.update([b2, c]);
    for (let i = 0; i < 50; i++) assert.equal(picker.pick(newCall()), b2);
  });

  it('with unequal weights, idle picks follow the weights and busy picks compare in-flight / weight', () => {
    const list = endpoints(3, [1, 2, 5]);
    const balancer = leastRequest().create({ service: 's', clock: new VirtualClock(0, 11) });
    const picker = balancer.update(list);
    const counts = tally(Array.from({ length: 8000 }, () => picker.pick(newCall())));
    const expected = [1000, 2000, 5000];
    list.forEach((e, i) => {
      const n = counts.get(e.id) ?? 0;
      assert.ok(Math.abs(n - (expected[i] as number)) < 300, `${e.id}: ${n} picks, expected about ${expected[i]}`);
    });
    // 4 in flight on weight 5 (0.8 per unit) beats 1 on weight 1 (1.0 per unit).
    load(balancer, list[2] as Endpoint, 4);
    load(balancer, list[0] as Endpoint, 1);
    load(balancer, list[1] as Endpoint, 2);
    const busy = tally(Array.from({ length: 2000 }, () => picker.pick(newCall())));
    assert.ok((busy.get((list[2] as Endpoint).id) ?? 0) > (busy.get((list[0] as Endpoint).id) ?? 0));
  });

  it('retries avoid tried endpoints; empty set gives undefined', () => {
    const list = endpoints(3);
    const balancer = leastRequest().create({ service: 's', clock: new VirtualClock() });
    const picker = balancer.update(list);
    load(balancer, list[0] as Endpoint, 0);
    for (let i = 0; i < 50; i++) {
      const picked = picker.pick(newCall(undefined, [list[0] as Endpoint, list[1] as Endpoint]));
      assert.equal(picked, list[2]);
    }
    assert.equal(balancer.update([]).pick(newCall()), undefined);
  });

  it('validates choices', () => {
    assert.equal(leastRequest({ choices: 3 }).name, 'least-request');
    for (const bad of [1, 0, 2.5, '2', 101]) {
      assert.throws(() => leastRequest({ choices: bad as number }), (e: unknown) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === 'balancer.choices');
    }
    assert.throws(() => leastRequest({ choise: 2 } as never), (e: unknown) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === 'balancer.choise');
  });
});
