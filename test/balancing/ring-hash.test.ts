import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ringHash } from '../../src/balancing/index.js';
import { toEndpoint, type Endpoint } from '../../src/core/endpoint.js';
import { isMeshkitError } from '../../src/core/errors.js';
import { Outcomes } from '../../src/core/outcome.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import { attemptOn, CountingClock, endpoints, newCall, pickCost, tally } from './support.js';

const KEYS = Array.from({ length: 2000 }, (_, i) => `user-${i}`);

function owners(picker: { pick(call: ReturnType<typeof newCall>): Endpoint | undefined }): string[] {
  return KEYS.map((key) => (picker.pick(newCall(key)) as Endpoint).id);
}

describe('ringHash', () => {
  it('sends equal keys to the same endpoint, in every client (property)', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 30 }), fc.string(), fc.integer(), fc.integer(), (count, key, seedA, seedB) => {
      const list = endpoints(count);
      const a = ringHash().create({ service: 's', clock: new VirtualClock(0, seedA) }).update(list);
      const b = ringHash().create({ service: 's', clock: new VirtualClock(0, seedB) }).update([...list].reverse());
      const first = a.pick(newCall(key));
      for (let i = 0; i < 5; i++) assert.equal(a.pick(newCall(key)), first);
      assert.equal(b.pick(newCall(key)), first, 'another client, endpoints listed in another order');
    }));
  });

  it('moves only the keys of an endpoint that leaves, about 1/N of them (property)', () => {
    fc.assert(fc.property(fc.integer({ min: 3, max: 12 }), fc.nat(), (count, leaving) => {
      const list = endpoints(count);
      const gone = list[leaving % count] as Endpoint;
      const balancer = ringHash().create({ service: 's', clock: new VirtualClock() });
      const before = owners(balancer.update(list));
      const after = owners(balancer.update(list.filter((e) => e !== gone)));
      let moved = 0;
      for (let i = 0; i < KEYS.length; i++) {
        if (before[i] === after[i]) continue;
        moved++;
        assert.equal(before[i], gone.id, `key ${KEYS[i]} moved from ${before[i]}, which stayed`);
      }
      const share = moved / KEYS.length;
      assert.ok(share > 0.5 / count && share < 1.6 / count, `moved ${share} of keys with ${count} endpoints`);
    }), { numRuns: 50 });
  });

  it('moves keys only to an endpoint that joins', () => {
    const list = endpoints(6);
    const balancer = ringHash().create({ service: 's', clock: new VirtualClock() });
    const before = owners(balancer.update(list.slice(0, 5)));
    const after = owners(balancer.update(list));
    const joined = (list[5] as Endpoint).id;
    let moved = 0;
    before.forEach((id, i) => {
      if (id !== after[i]) {
        moved++;
        assert.equal(after[i], joined);
      }
    });
    assert.ok(moved > KEYS.length / 12 && moved < KEYS.length / 3, `${moved} keys moved`);
  });

  it('bounded load keeps every endpoint at or under ceil(factor * average) in flight (property)', () => {
    const hotKeys = fc.array(fc.oneof(fc.constant('hot'), fc.string({ maxLength: 4 })), { minLength: 1, maxLength: 300 });
    fc.assert(fc.property(fc.integer({ min: 2, max: 20 }), fc.constantFrom(1, 1.1, 1.25, 1.5, 2), hotKeys, (count, factor, keys) => {
      const list = endpoints(count);
      const balancer = ringHash({ hashBalanceFactor: factor }).create({ service: 's', clock: new VirtualClock() });
      const picker = balancer.update(list);
      const active = new Map<string, number>();
      keys.forEach((key, i) => {
        const endpoint = picker.pick(newCall(key)) as Endpoint;
        balancer.onAttemptStart?.(attemptOn(endpoint));
        active.set(endpoint.id, (active.get(endpoint.id) ?? 0) + 1);
        const limit = Math.ceil((factor * (i + 1)) / count);
        for (const [id, n] of active) assert.ok(n <= limit, `${id} has ${n} in flight, limit ${limit}`);
      });
    }));
  });

  it('a hot key spills over only while its endpoint is busy, and comes back when it drains', () => {
    const list = endpoints(4);
    const balancer = ringHash().create({ service: 's', clock: new VirtualClock() });
    const picker = balancer.update(list);
    const home = picker.pick(newCall('hot')) as Endpoint;
    const started = Array.from({ length: 12 }, () => {
      const endpoint = picker.pick(newCall('hot')) as Endpoint;
      const attempt = attemptOn(endpoint);
      balancer.onAttemptStart?.(attempt);
      return attempt;
    });
    const spread = tally(started.map((a) => a.endpoint));
    assert.ok((spread.get(home.id) ?? 0) <= Math.ceil((1.25 * 12) / 4));
    assert.ok(spread.size > 1);
    for (const attempt of started) balancer.onAttemptEnd?.(attempt, Outcomes.success, 1);
    assert.equal(picker.pick(newCall('hot')), home);
  });

  it('describes each endpoint\'s attempts in flight (what bounded load compares) for client.endpoints()', () => {
    const list = endpoints(3);
    const balancer = ringHash().create({ service: 's', clock: new VirtualClock() });
    balancer.update(list);
    const attempt = attemptOn(list[1] as Endpoint);
    balancer.onAttemptStart?.(attempt);
    balancer.onAttemptStart?.(attemptOn(list[1] as Endpoint));
    assert.deepEqual(list.map((e) => balancer.describe?.(e)?.inFlight), [0, 2, 0]);
    balancer.onAttemptEnd?.(attempt, Outcomes.success, 1);
    assert.equal(balancer.describe?.(list[1] as Endpoint)?.inFlight, 1);
    assert.equal(balancer.describe?.(toEndpoint('127.0.0.1:9', 'e')), undefined, 'not in the set');
  });

  it('without bounded load (Infinity) a hot key stays home', () => {
    const list = endpoints(4);
    const balancer = ringHash({ hashBalanceFactor: Infinity }).create({ service: 's', clock: new VirtualClock() });
    const picker = balancer.update(list);
    const home = picker.pick(newCall('hot')) as Endpoint;
    for (let i = 0; i < 20; i++) {
      const endpoint = picker.pick(newCall('hot')) as Endpoint;
      assert.equal(endpoint, home);
      balancer.onAttemptStart?.(attemptOn(endpoint));
    }
  });

  it('a retry of a key moves to another endpoint; keyless calls are random', () => {
    const list = endpoints(5);
    const clock = new CountingClock();
    const picker = ringHash().create({ service: 's', clock }).update(list);
    const seeded = clock.randomCalls;
    const home = picker.pick(newCall('k')) as Endpoint;
    assert.equal(clock.randomCalls, seeded, 'picks call no clock');
    const retry = picker.pick(newCall('k', [home]));
    assert.ok(retry !== undefined && retry !== home);
    const counts = tally(Array.from({ length: 5000 }, () => picker.pick(newCall())));
    assert.equal(counts.size, 5);
    assert.equal(picker.pick(newCall('k', [...list])) !== undefined, true);
  });

  it('a keyed pick touches one element of the set at 10 or 10,000 endpoints (binary search over the ring)', () => {
    for (const size of [10, 10_000]) assert.deepEqual(pickCost(ringHash(), size, 'user-42'), { readsPerPick: 1, randomCalls: 0, nowCalls: 0 }, `size ${size}`);
  });

  it('honours weights: an endpoint with weight 3 owns about 3x the keys', () => {
    const list = [toEndpoint({ host: '127.0.0.1', port: 1, weight: 3 }, 'e'), ...endpoints(3)];
    const picker = ringHash().create({ service: 's', clock: new VirtualClock() }).update(list);
    const counts = tally(KEYS.map((key) => picker.pick(newCall(key))));
    const share = (counts.get((list[0] as Endpoint).id) ?? 0) / KEYS.length;
    assert.ok(share > 0.4 && share < 0.6, `weight-3 endpoint owns ${share}`);
  });

  it('an empty set gives undefined; options are validated', () => {
    assert.equal(ringHash().create({ service: 's', clock: new VirtualClock() }).update([]).pick(newCall('k')), undefined);
    for (const [options, option] of [
      [{ minRingSize: 0 }, 'balancer.minRingSize'], [{ maxRingSize: 1.5 }, 'balancer.maxRingSize'],
      [{ minRingSize: 100, maxRingSize: 50 }, 'balancer.maxRingSize'], [{ hashBalanceFactor: 0.9 }, 'balancer.hashBalanceFactor'],
      [{ hashBalanceFactor: Number.NaN }, 'balancer.hashBalanceFactor'], [{ ringSize: 1 }, 'balancer.ringSize'],
    ] as const) {
      assert.throws(() => ringHash(options as never), (e: unknown) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === option, option);
    }
  });
});
