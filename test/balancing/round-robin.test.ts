import { CallRecord } from '../../src/attempts/call-record.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { roundRobin, toEndpoint, type Endpoint } from '../../src/index.js';
import { functionClassifier, functionTransport } from '../../src/transports/function.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';

function endpoints(count: number): Endpoint[] {
  return Array.from({ length: count }, (_, i) => toEndpoint(`127.0.0.1:${1000 + i}`, 'e'));
}

function newCall(): CallRecord {
  return new CallRecord('svc', undefined, functionTransport, functionClassifier, 0, Infinity, true, true, undefined);
}

describe('roundRobin', () => {
  it('spreads picks evenly: every endpoint once per cycle (property)', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 5 }), fc.integer(), (count, cycles, seed) => {
      const balancer = roundRobin().create({ service: 's', clock: new VirtualClock(0, seed) });
      const picker = balancer.update(endpoints(count));
      const seen = new Map<string, number>();
      for (let i = 0; i < count * cycles; i++) {
        const picked = picker.pick(newCall()) as Endpoint;
        seen.set(picked.id, (seen.get(picked.id) ?? 0) + 1);
      }
      assert.equal(seen.size, count);
      for (const n of seen.values()) assert.equal(n, cycles);
    }));
  });

  it('skips endpoints the call already tried while others remain', () => {
    fc.assert(fc.property(fc.integer({ min: 2, max: 20 }), fc.integer(), (count, seed) => {
      const list = endpoints(count);
      const picker = roundRobin().create({ service: 's', clock: new VirtualClock(0, seed) }).update(list);
      const call = newCall();
      call.tried = [];
      for (let i = 0; i < count; i++) {
        const picked = picker.pick(call) as Endpoint;
        assert.ok(!call.tried.includes(picked), 'picked a tried endpoint while others remained');
        call.tried.push(picked);
      }
      assert.ok(picker.pick(call) !== undefined, 'falls back to a tried endpoint when all were tried');
    }));
  });

  it('skips a tried endpoint by id: a set update between attempts hands out new objects for the same instances', () => {
    for (let seed = 0; seed < 20; seed++) {
      const balancer = roundRobin().create({ service: 's', clock: new VirtualClock(0, seed) });
      const first = balancer.update(endpoints(2));
      const call = newCall();
      const failed = first.pick(call) as Endpoint;
      call.tried = [failed];
      // Discovery re-delivered the same two instances as new objects.
      const picked = balancer.update(endpoints(2)).pick(call) as Endpoint;
      assert.notEqual(picked.id, failed.id, `seed ${seed}: the retry went back to ${failed.id}`);
    }
  });

  it('returns undefined for an empty set', () => {
    const picker = roundRobin().create({ service: 's', clock: new VirtualClock() }).update([]);
    assert.equal(picker.pick(newCall()), undefined);
  });
});
