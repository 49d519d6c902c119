import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { client, roundRobin } from '../../src/index.js';
import type { ResolverUpdate } from '../../src/discovery/resolver.js';
import { Simulation } from '../../src/sim/simulation.js';
import { closeInSim, every, fireAt } from '../helpers/sim.js';

describe('SimResolver', () => {
  it('pushes whole sets on join and leave, with zones and weights', async () => {
    const sim = new Simulation();
    const orders = sim.service('orders', { instances: [{ weight: 2 }, {}, {}], zones: ['a', 'b'] });
    const updates: ResolverUpdate[] = [];
    const unsubscribe = orders.resolver.subscribe({ onUpdate: (update) => updates.push(update), onError: () => {} });
    assert.equal(updates.length, 1, 'the current set at once');
    assert.deepEqual(updates[0]?.endpoints.map((e) => [e.id, e.zone, e.weight]), [
      [orders.backend(0).id, 'a', 2], [orders.backend(1).id, 'b', 1], [orders.backend(2).id, 'a', 1],
    ]);
    assert.equal(updates[0]?.source, 'sim:orders');
    orders.resolver.leave(orders.backend(1));
    orders.resolver.leave(orders.backend(1)); // not a member any more: no update
    orders.resolver.join(orders.backend(1));
    assert.deepEqual(updates.map((update) => update.endpoints.length), [3, 2, 3]);
    assert.deepEqual(updates[2]?.endpoints.map((e) => e.id), [orders.backend(0).id, orders.backend(2).id, orders.backend(1).id]);
    unsubscribe();
    orders.resolver.leave(orders.backend(0));
    assert.equal(updates.length, 3, 'no update after unsubscribing');
  });

  it('delays updates by the propagation time, in order', async () => {
    const sim = new Simulation();
    const orders = sim.service('orders', { instances: 2, propagation: '2s' });
    const seen: [number, number][] = [];
    orders.resolver.subscribe({ onUpdate: (update) => seen.push([sim.now(), update.endpoints.length]), onError: () => {} });
    sim.at(1000, () => orders.resolver.leave(orders.backend(0)));
    sim.at(1500, () => orders.resolver.leave(orders.backend(1)));
    await sim.run(10_000);
    assert.deepEqual(seen, [[0, 2], [3000, 1], [3500, 0]]);
  });

  it('stops a client picking a backend that left; a timeline brings it back', async () => {
    const sim = new Simulation({ seed: 3 });
    const orders = sim.service('orders', {
      instances: 3,
      behaviour: { latency: 1 },
      timeline: [{ at: 1000, backends: [2], leave: true }, { at: 2000, backends: [2], join: true }],
    });
    const caller = client('orders').discovery(orders.resolver).transport(sim.transport).clock(sim.clock).balancer(roundRobin()).build();
    fireAt(sim, caller, every(10, 300));
    const arrivalsAt: number[] = [];
    for (const t of [999, 1999, 2999]) sim.at(t, () => arrivalsAt.push(orders.backend(2).totals().arrivals));
    await sim.run(3_500);
    const [before, during, after] = arrivalsAt as [number, number, number];
    assert.ok(before > 20, `before leaving: ${before}`);
    assert.equal(during, before, 'no call while it was out of discovery');
    assert.ok(after > during + 20, `after joining again: ${after - during}`);
    await closeInSim(sim, caller);
  });
});
