import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { peakEwma, random, roundRobin, zoneAware, type BalancerFactory, type Picker } from '../../src/balancing/index.js';
import type { Balancer } from '../../src/balancing/balancer.js';
import { localShare } from '../../src/balancing/zone-aware-share.js';
import { toEndpoint, type Endpoint } from '../../src/core/endpoint.js';
import { isMeshkitError } from '../../src/core/errors.js';
import { Outcomes } from '../../src/core/outcome.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import { CountingClock, attemptOn, newCall, observe } from './support.js';

let nextPort = 2000;

/** `count` endpoints in `zone` (undefined: no zone), on fresh ports. */
function zoned(zone: string | undefined, count: number): Endpoint[] {
  return Array.from({ length: count }, () => toEndpoint(zone === undefined
    ? { host: '127.0.0.1', port: nextPort++ }
    : { host: '127.0.0.1', port: nextPort++, zone }, 'e'));
}

function create(factory: BalancerFactory, clock = new VirtualClock()): Balancer {
  return factory.create({ service: 'svc', clock });
}

/** The share the picker sends to the local zone (exposed by the zone-aware picker for status and tests). */
function shareOf(picker: Picker): number {
  return (picker as Picker & { localShare: number }).localShare;
}

/** How many of `count` picks land in each zone ('none' for endpoints without one). */
function zoneCounts(picker: Picker, count: number, tried?: Endpoint[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const zone = picker.pick(newCall(undefined, tried))?.zone ?? 'none';
    counts.set(zone, (counts.get(zone) ?? 0) + 1);
  }
  return counts;
}

function isConfigError(option: string): (e: unknown) => boolean {
  return (e: unknown) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === option;
}

describe('localShare (the zone-aware rule)', () => {
  it('keeps everything local at or above the threshold, and falls in proportion below it', () => {
    assert.equal(localShare(10, 10, 5, 70), 1);
    assert.equal(localShare(7, 10, 5, 70), 1, '70 % is enough');
    assert.ok(Math.abs(localShare(4, 10, 5, 70) - 4 / 7) < 1e-12);
    assert.ok(Math.abs(localShare(1, 10, 5, 70) - 1 / 7) < 1e-12);
    assert.equal(localShare(0, 10, 5, 70), 0, 'no healthy local endpoint: everything spills');
    assert.equal(localShare(0, 0, 5, 70), 0, 'no local zone at all');
    assert.equal(localShare(3, 10, 0, 70), 1, 'nowhere to spill to');
    assert.equal(localShare(1, 10, 5, 0), 1, '0 %: local while any local endpoint is in rotation');
    assert.equal(localShare(5, 10, 5, 100), 0.5, '100 %: exactly the healthy fraction');
    assert.equal(localShare(5, 3, 5, 70), 1, 'a total below the healthy count counts as the healthy count');
  });

  it('is min(1, (H / T) / (p / 100)) in [0, 1], continuous at the threshold, and never falls as H grows (property)', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 200 }), fc.integer({ min: 0, max: 200 }), fc.integer({ min: 1, max: 50 }), fc.double({ min: 0.5, max: 100, noNaN: true }),
      (total, h, others, percent) => {
        const healthy = Math.min(h, total);
        const share = localShare(healthy, total, others, percent);
        assert.ok(share >= 0 && share <= 1);
        const expected = Math.min(1, (healthy / total) / (percent / 100));
        assert.ok(Math.abs(share - expected) < 1e-12, `${share} vs ${expected}`);
        if (healthy < total) assert.ok(localShare(healthy + 1, total, others, percent) >= share);
      },
    ));
  });
});

describe('zoneAware', () => {
  it('sends every pick to the local zone while the zone is healthy enough', () => {
    const a = zoned('a', 10);
    const set = [...a, ...zoned('b', 3), ...zoned('c', 2), ...zoned(undefined, 1)];
    const balancer = create(zoneAware({ zone: 'a' }));
    assert.deepEqual([...zoneCounts(balancer.update(set, set), 5000)], [['a', 5000]]);
    // 7 of 10 local endpoints in rotation is exactly the default 70 %: still all local, over all 7.
    const inRotation = set.filter((e) => !a.slice(7).includes(e));
    const picker = balancer.update(inRotation, set);
    assert.equal(shareOf(picker), 1);
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const endpoint = picker.pick(newCall()) as Endpoint;
      assert.equal(endpoint.zone, 'a');
      seen.add(endpoint.id);
    }
    assert.equal(seen.size, 7, 'the inner balancer spreads over every local endpoint in rotation');
  });

  it('stays local for any set whose local zone is at least minHealthyPercent healthy (property)', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 20 }), fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 100 }), fc.integer({ min: 1, max: 1000 }),
      (total, ejected, others, percent, seed) => {
        const healthy = total - Math.min(ejected, total - 1);
        fc.pre(healthy * 100 >= percent * total);
        const a = zoned('a', total);
        const rest = zoned('b', others);
        const balancer = create(zoneAware({ zone: 'a', minHealthyPercent: percent, inner: random() }), new VirtualClock(0, seed));
        const picker = balancer.update([...a.slice(0, healthy), ...rest], [...a, ...rest]);
        for (let i = 0; i < 50; i++) assert.equal(picker.pick(newCall())?.zone, 'a');
      },
    ));
  });

  it('spills over in proportion when local endpoints are out of rotation, spread by healthy capacity', () => {
    const a = zoned('a', 10);
    const b = zoned('b', 6);
    const c = zoned('c', 3);
    const all = [...a, ...b, ...c];
    // Outlier detection took 6 of zone a's 10 endpoints out: 40 % healthy, below 70 %.
    const inRotation = [...a.slice(0, 4), ...b, ...c];
    const picker = create(zoneAware({ zone: 'a' })).update(inRotation, all);
    const expected = 0.4 / 0.7;
    assert.ok(Math.abs(shareOf(picker) - expected) < 1e-12);
    const picks = 40_000;
    const counts = zoneCounts(picker, picks);
    const local = (counts.get('a') ?? 0) / picks;
    // Binomial standard deviation here is 0.0025; allow 6 of them.
    assert.ok(Math.abs(local - expected) < 0.015, `local share ${local.toFixed(4)}, expected ${expected.toFixed(4)}`);
    const spilled = picks - (counts.get('a') ?? 0);
    const toB = (counts.get('b') ?? 0) / spilled;
    assert.ok(Math.abs(toB - 6 / 9) < 0.03, `zone b took ${(toB * 100).toFixed(1)} % of the spill, expected 66.7 % (6 of 9 healthy)`);
  });

  it('measures the rule\'s local share for any health level (property)', () => {
    fc.assert(fc.property(
      fc.integer({ min: 2, max: 12 }), fc.integer({ min: 1, max: 11 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 10, max: 100 }), fc.integer({ min: 1, max: 1000 }),
      (total, h, others, percent, seed) => {
        const healthy = Math.min(h, total);
        const a = zoned('a', total);
        const b = zoned('b', others);
        const picker = create(zoneAware({ zone: 'a', minHealthyPercent: percent }), new VirtualClock(0, seed))
          .update([...a.slice(0, healthy), ...b], [...a, ...b]);
        const expected = Math.min(1, healthy / total / (percent / 100));
        const picks = 4000;
        const local = (zoneCounts(picker, picks).get('a') ?? 0) / picks;
        // At most 0.008 standard deviation: 0.04 is 5 of them.
        assert.ok(Math.abs(local - expected) < 0.04, `${healthy}/${total} at ${percent} %: measured ${local}, expected ${expected}`);
      },
    ), { numRuns: 40 });
  });

  it('sends everything to the other zones when no local endpoint is in rotation', () => {
    const a = zoned('a', 4);
    const b = zoned('b', 3);
    const c = zoned('c', 2);
    const all = [...a, ...b, ...c];
    const picker = create(zoneAware({ zone: 'a' })).update([...b, ...c], all);
    assert.equal(shareOf(picker), 0);
    const counts = zoneCounts(picker, 9000);
    assert.equal(counts.get('a'), undefined);
    assert.ok((counts.get('b') ?? 0) > 4800 && (counts.get('c') ?? 0) > 3200, JSON.stringify([...counts]));
    // And back to local once the zone returns.
    const back = create(zoneAware({ zone: 'a' })).update(all, all);
    assert.deepEqual([...zoneCounts(back, 1000)], [['a', 1000]]);
  });

  it('treats a zone no endpoint has as absent, and endpoints without a zone as another zone', () => {
    const a = zoned('a', 3);
    const none = zoned(undefined, 3);
    const all = [...a, ...none];
    // The caller's zone is nowhere: the inner balancer spreads over everything.
    const elsewhere = create(zoneAware({ zone: 'x' })).update(all, all);
    assert.equal(shareOf(elsewhere), 0);
    const ids = new Set<string>();
    for (let i = 0; i < 3000; i++) ids.add((elsewhere.pick(newCall()) as Endpoint).id);
    assert.equal(ids.size, 6);
    // Zoneless endpoints are not local: they get nothing while zone a is healthy, and its spill when not.
    const balancer = create(zoneAware({ zone: 'a' }));
    assert.deepEqual([...zoneCounts(balancer.update(all, all), 1000)], [['a', 1000]]);
    assert.deepEqual([...zoneCounts(balancer.update(none, all), 1000)], [['none', 1000]]);
    // No endpoint at all: nothing to pick.
    assert.equal(balancer.update([], []).pick(newCall()), undefined);
    assert.equal(balancer.update([], all).pick(newCall()), undefined);
  });

  it('uses `endpoints` for both when `all` is not given (no outlier detection): traffic stays local', () => {
    const set = [...zoned('a', 1), ...zoned('b', 5)];
    assert.deepEqual([...zoneCounts(create(zoneAware({ zone: 'a' })).update(set), 500)], [['a', 500]]);
  });

  it('retries avoid endpoints the call tried, spilling to another zone once every local endpoint was tried', () => {
    const a = zoned('a', 2);
    const b = zoned('b', 3);
    const all = [...a, ...b];
    const [a1, a2] = a as [Endpoint, Endpoint];
    const b1 = b[0] as Endpoint;
    for (const inner of [peakEwma(), roundRobin(), random()]) {
      const picker = create(zoneAware({ zone: 'a', inner })).update(all, all);
      assert.equal(shareOf(picker), 1);
      for (let i = 0; i < 200; i++) {
        assert.equal(picker.pick(newCall(undefined, [a1])), a2, `${inner.name}: the other local endpoint first`);
        // call.tried also lists an endpoint of another zone: still the untried local one.
        assert.equal(picker.pick(newCall(undefined, [b1, a1])), a2, inner.name);
        const spilled = picker.pick(newCall(undefined, [a1, a2])) as Endpoint;
        assert.equal(spilled.zone, 'b', `${inner.name}: every local endpoint was tried, so another zone`);
        assert.notEqual(picker.pick(newCall(undefined, [a1, a2, b1])), b1, inner.name);
        assert.ok(all.includes(picker.pick(newCall(undefined, all)) as Endpoint), `${inner.name}: everything tried still picks one`);
      }
      // The other way round: every endpoint of the other zones was tried, so a local one.
      const half = create(zoneAware({ zone: 'a', inner })).update([a1, ...b], all);
      assert.ok(shareOf(half) > 0 && shareOf(half) < 1);
      for (let i = 0; i < 200; i++) assert.equal(half.pick(newCall(undefined, b)), a1, inner.name);
      // Nothing local in rotation and every other endpoint tried: one of them rather than none.
      const gone = create(zoneAware({ zone: 'a', inner })).update(b, all);
      assert.ok(b.includes(gone.pick(newCall(undefined, [...b])) as Endpoint), inner.name);
    }
  });

  it('a retry picks an untried endpoint whenever one is in rotation (property)', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 8 }), fc.integer({ min: 0, max: 8 }), fc.integer({ min: 0, max: 8 }),
      fc.array(fc.nat(), { maxLength: 6 }), fc.constantFrom('peak-ewma', 'round-robin'), fc.integer({ min: 1, max: 1000 }),
      (total, ejected, others, zoneless, triedIndexes, innerName, seed) => {
        const a = zoned('a', total);
        const all = [...a, ...zoned('b', others), ...zoned(undefined, zoneless)];
        const inRotation = all.filter((e) => !a.slice(0, ejected).includes(e));
        fc.pre(inRotation.length > 0);
        const tried = triedIndexes.map((i) => all[i % all.length] as Endpoint);
        fc.pre(inRotation.some((e) => !tried.includes(e)));
        const inner = innerName === 'peak-ewma' ? peakEwma() : roundRobin();
        const picker = create(zoneAware({ zone: 'a', inner }), new VirtualClock(0, seed)).update(inRotation, all);
        for (let i = 0; i < 20; i++) {
          const endpoint = picker.pick(newCall(undefined, tried));
          assert.ok(endpoint !== undefined && inRotation.includes(endpoint) && !tried.includes(endpoint));
        }
      },
    ));
  });

  it('forwards feedback to the inner balancer that owns the endpoint, and that state survives updates', () => {
    const events: string[] = [];
    let instances = 0;
    const spy: BalancerFactory = {
      name: 'spy',
      create(environment) {
        const n = instances++;
        const inner = random().create(environment);
        return {
          update: (endpoints, all) => {
            events.push(`${n} update ${endpoints.length}/${all?.length}`);
            return inner.update(endpoints);
          },
          onAttemptStart: (attempt) => events.push(`${n} start ${attempt.endpoint.zone ?? 'none'}`),
          onAttemptEnd: (attempt) => events.push(`${n} end ${attempt.endpoint.zone ?? 'none'}`),
          describe: (endpoint) => ({ load: n, inFlight: endpoint.port }),
        };
      },
    };
    const a = zoned('a', 2);
    const b = zoned('b', 3);
    const none = zoned(undefined, 1);
    const balancer = create(zoneAware({ zone: 'a', inner: spy }));
    balancer.update([a[1] as Endpoint, ...b, ...none], [...a, ...b, ...none]);
    for (const endpoint of [a[0], b[0], none[0]] as Endpoint[]) {
      const attempt = attemptOn(endpoint);
      balancer.onAttemptStart?.(attempt);
      balancer.onAttemptEnd?.(attempt, Outcomes.success, 1);
    }
    assert.deepEqual(events, ['0 update 1/2', '1 update 4/4', '0 start a', '0 end a', '1 start b', '1 end b', '1 start none', '1 end none']);
    assert.deepEqual(balancer.describe?.(a[0] as Endpoint), { load: 0, inFlight: (a[0] as Endpoint).port });
    assert.equal(balancer.describe?.(b[0] as Endpoint)?.load, 1);

    // Peak EWMA's estimates survive a set update: the slow local endpoint stays avoided.
    const clock = new VirtualClock();
    const ewma = create(zoneAware({ zone: 'a' }), clock);
    const [slow, fast] = a as [Endpoint, Endpoint];
    ewma.update([...a, ...b], [...a, ...b]);
    observe(ewma, slow, 500);
    observe(ewma, fast, 5);
    const after = ewma.update([slow, fast, ...b.map((e) => toEndpoint({ host: e.host, port: e.port, zone: 'b' }, 'e'))], [...a, ...b]);
    let toSlow = 0;
    for (let i = 0; i < 1000; i++) if (after.pick(newCall()) === slow) toSlow++;
    assert.equal(toSlow, 0);
  });

  it('adds feedback hooks only when the inner balancer has them (the executor then skips reading the end time)', () => {
    const plain = create(zoneAware({ zone: 'a', inner: random() }));
    assert.equal(plain.onAttemptStart, undefined);
    assert.equal(plain.onAttemptEnd, undefined);
    const ewma = create(zoneAware({ zone: 'a' }));
    assert.equal(typeof ewma.onAttemptEnd, 'function');
    assert.equal(typeof ewma.describe, 'function');
  });

  it('picks call no clock at any set size (randomness comes from a stream seeded once per balancer)', () => {
    for (const size of [10, 10_000]) {
      const a = zoned('a', size);
      const b = zoned('b', size);
      const clock = new CountingClock();
      const balancer = create(zoneAware({ zone: 'a' }), clock);
      const healthy = balancer.update([...a, ...b], [...a, ...b]);
      const half = balancer.update([...a.slice(0, size / 2), ...b], [...a, ...b]);
      const none = balancer.update(b, [...a, ...b]);
      const seeds = clock.randomCalls;
      clock.nowCalls = 0;
      for (const picker of [healthy, half, none]) for (let i = 0; i < 1000; i++) picker.pick(newCall());
      assert.equal(seeds, 3, 'one seed each: the zone choice and the two inner balancers');
      assert.deepEqual([clock.randomCalls, clock.nowCalls], [seeds, 0]);
    }
  });

  it('validates its options, naming balancer.<option>', () => {
    assert.throws(() => zoneAware(undefined as never), isConfigError('balancer.zone'));
    assert.throws(() => zoneAware(null as never), isConfigError('balancer'));
    assert.throws(() => zoneAware({} as never), isConfigError('balancer.zone'));
    for (const bad of ['', '  ', 3, null]) assert.throws(() => zoneAware({ zone: bad as string }), isConfigError('balancer.zone'));
    for (const bad of [-1, 100.5, Number.NaN, '70', null, Infinity]) {
      assert.throws(() => zoneAware({ zone: 'a', minHealthyPercent: bad as number }), isConfigError('balancer.minHealthyPercent'));
    }
    for (const bad of [null, 'peakEwma', {}, { name: 'x' }, peakEwma]) {
      assert.throws(() => zoneAware({ zone: 'a', inner: bad as never }), isConfigError('balancer.inner'));
    }
    assert.throws(() => zoneAware({ zone: 'a', minHealthy: 50 } as never), isConfigError('balancer.minHealthy'));
    for (const ok of [0, 50.5, 100]) assert.doesNotThrow(() => zoneAware({ zone: 'a', minHealthyPercent: ok }));
    const factory = zoneAware({ zone: 'a', inner: roundRobin() });
    assert.equal(factory.name, 'zone-aware(round-robin)');
    assert.equal(zoneAware({ zone: 'a' }).name, 'zone-aware(p2c-peak-ewma)');
    assert.ok(Object.isFrozen(factory));
  });
});
