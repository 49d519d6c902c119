import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { peakEwma } from '../../src/balancing/index.js';
import { PeakEwmaCost } from '../../src/balancing/peak-ewma-cost.js';
import type { Endpoint } from '../../src/core/endpoint.js';
import { isMeshkitError } from '../../src/core/errors.js';
import { Outcomes, type Outcome } from '../../src/core/outcome.js';
import { EndpointHealthFilter } from '../../src/health/endpoint-health-filter.js';
import { resolveOutlierDetection } from '../../src/health/outlier-options.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import { CountingClock, endpoints, load, newCall, observe, permutation, pickCost, simulate, tally } from './support.js';

const TAU = 10_000;
const failed503: Outcome = Object.freeze({ reason: 'status', blame: 'upstream', ok: false, retryable: true, status: 503 });

/** An estimate that has seen one response of `rtt` at `at`. */
function measured(rtt: number, at: number): PeakEwmaCost {
  const cost = new PeakEwmaCost(30, at, TAU);
  cost.observe(rtt, at);
  return cost;
}

describe('PeakEwmaCost', () => {
  it('starts at the default, and the first response replaces it outright', () => {
    const cost = new PeakEwmaCost(30, 0, TAU);
    assert.equal(cost.read(0), 30);
    cost.observe(2, 1);
    assert.equal(cost.read(1), 2);
  });

  it('orders endpoints by score exactly as by decayed load at any common time (property)', () => {
    const sample = fc.tuple(fc.double({ min: 0.01, max: 1000, noNaN: true }), fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 0, max: 20 }));
    fc.assert(fc.property(sample, sample, fc.integer({ min: 0, max: 100_000 }), ([ra, ta, pa], [rb, tb, pb], later) => {
      const a = measured(ra, ta);
      const b = measured(rb, tb);
      for (let i = 0; i < pa; i++) a.start();
      for (let i = 0; i < pb; i++) b.start();
      const now = Math.max(ta, tb) + later;
      const byLoad = Math.sign(a.load(now) - b.load(now));
      const byScore = Math.sign(a.rank - b.rank);
      assert.ok(Math.abs(a.rank - (a.score + Math.log(pa + 1))) < 1e-9, 'rank is score + ln(pending + 1)');
      if (Math.abs(a.load(now) - b.load(now)) > 1e-9 * Math.max(a.load(now), b.load(now))) assert.equal(byScore, byLoad);
    }));
  });

  it('responds to a latency step down within the decay bounds: low <= cost <= low + (high - low) * exp(-t / tau) (property)', () => {
    fc.assert(fc.property(
      fc.double({ min: 1, max: 100, noNaN: true }), fc.double({ min: 1.5, max: 20, noNaN: true }),
      fc.integer({ min: 1, max: 500 }), fc.integer({ min: 1, max: 300 }),
      (low, ratio, everyMs, samples) => {
        const high = low * ratio;
        const cost = measured(high, 0);
        let now = 0;
        for (let i = 0; i < samples; i++) {
          now += everyMs;
          cost.observe(low, now);
          // Blending alone shrinks the gap by exp(-t / tau); once the decayed cost reads below the
          // sample, the sample counts as a peak and the estimate lands on it: never slower than the formula.
          const bound = low + (high - low) * Math.exp(-now / TAU);
          const estimate = cost.read(now);
          assert.ok(estimate >= low - 1e-9 && estimate <= bound + 1e-9 * high, `${estimate} outside [${low}, ${bound}] at ${now} ms`);
        }
      },
    ));
  });

  it('is peak-sensitive: a higher RTT raises the cost at once', () => {
    fc.assert(fc.property(fc.double({ min: 0.1, max: 50, noNaN: true }), fc.double({ min: 1.01, max: 100, noNaN: true }), fc.integer({ min: 0, max: 60_000 }), (base, ratio, at) => {
      const cost = measured(base, 0);
      const spike = base * ratio;
      cost.observe(spike, at);
      assert.equal(cost.read(at), spike);
    }));
  });

  it('reads decay toward zero while nothing is observed; load is cost * (pending + 1)', () => {
    const cost = measured(40, 1000);
    assert.equal(cost.read(1000), 40);
    assert.ok(Math.abs(cost.read(1000 + TAU) - 40 / Math.E) < 1e-9);
    cost.start();
    cost.start();
    assert.ok(Math.abs(cost.load(1000 + TAU) - 120 / Math.E) < 1e-9);
    assert.equal(cost.stamp, 1000, 'reading changes nothing');
  });

  it('tracks a step up and back down within the decay bounds', () => {
    const cost = measured(10, 0);
    let now = 0;
    for (; now < 5000; now += 10) cost.observe(10, now);
    cost.observe(100, now);
    assert.equal(cost.read(now), 100, 'the step up lands at once');
    const stepAt = now;
    for (let i = 0; i < 1000; i++) cost.observe(10, (now += 10));
    // 10 s of 10 ms samples: pure blending, so the formula holds exactly: 10 + 90 * exp(-t / tau).
    const t = now - stepAt;
    const expected = 10 + 90 * Math.exp(-t / TAU);
    assert.ok(Math.abs(cost.read(now) - expected) < 1e-9, `${cost.read(now)} vs ${expected} after ${t} ms`);
    assert.ok(Math.abs(expected - (10 + 90 / Math.E)) < 1e-9, 'one time constant later the gap is 1/e');
  });
});

describe('peakEwma', () => {
  it('never picks the worse of two when costs differ (property)', () => {
    fc.assert(fc.property(permutation(), fc.integer(), (order, seed) => {
      const count = order.length;
      const clock = new VirtualClock(0, seed);
      const list = endpoints(count);
      const balancer = peakEwma().create({ service: 's', clock });
      const picker = balancer.update(list);
      list.forEach((endpoint, i) => observe(balancer, endpoint, 5 + 10 * (order[i] as number)));
      const slowest = list[order.indexOf(count - 1)] as Endpoint;
      const fastest = list[order.indexOf(0)] as Endpoint;
      for (let i = 0; i < 200; i++) {
        const picked = picker.pick(newCall());
        assert.notEqual(picked, slowest);
        if (count === 2) assert.equal(picked, fastest);
      }
    }));
  });

  it('weighs queueing: a fast endpoint with many pending loses to a slower idle one', () => {
    const clock = new VirtualClock();
    const [fast, slow] = endpoints(2) as [Endpoint, Endpoint];
    const balancer = peakEwma().create({ service: 's', clock });
    const picker = balancer.update([fast, slow]);
    observe(balancer, fast, 10);
    observe(balancer, slow, 30);
    assert.equal(picker.pick(newCall()), fast);
    load(balancer, fast, 3); // 10 * 4 > 30 * 1
    assert.equal(picker.pick(newCall()), slow);
  });

  it('picks touch one element of the set and call no clock, at 10 or 10,000 endpoints', () => {
    for (const size of [10, 10_000]) assert.deepEqual(pickCost(peakEwma(), size), { readsPerPick: 1, randomCalls: 0, nowCalls: 0 }, `size ${size}`);
  });

  it('draws one seed from the clock when created, so a VirtualClock seed makes picks reproducible', () => {
    const run = (seed: number): string[] => {
      const clock = new CountingClock(0, seed);
      const picker = peakEwma().create({ service: 's', clock }).update(endpoints(50));
      assert.equal(clock.randomCalls, 1);
      return Array.from({ length: 100 }, () => (picker.pick(newCall()) as Endpoint).id);
    };
    assert.deepEqual(run(7), run(7));
    assert.notDeepEqual(run(7), run(8));
  });

  it('sends little to an endpoint that turned slow (simulated, virtual time)', async () => {
    const clock = new VirtualClock(0, 3);
    const list = endpoints(5);
    const slow = list[4] as Endpoint;
    const counts = await simulate(peakEwma().create({ service: 's', clock }), list, clock,
      (e) => ({ ms: e === slow ? 20 : 2, outcome: Outcomes.success }), { perMs: 2, durationMs: 600, warmupMs: 100 });
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    assert.ok((counts.get(slow.id) ?? 0) / total < 0.02, `slow share ${(counts.get(slow.id) ?? 0) / total}`);
  });

  it('failure penalty: an endpoint failing fast loses its traffic; without the penalty it would attract it', async () => {
    const run = async (failurePenalty: string): Promise<number> => {
      const clock = new VirtualClock(0, 5);
      const list = endpoints(5);
      const failing = list[0] as Endpoint;
      const counts = await simulate(peakEwma({ failurePenalty }).create({ service: 's', clock }), list, clock,
        (e) => (e === failing ? { ms: 1, outcome: failed503 } : { ms: 10, outcome: Outcomes.success }),
        { perMs: 2, durationMs: 600, warmupMs: 100 });
      const total = [...counts.values()].reduce((a, b) => a + b, 0);
      return (counts.get(failing.id) ?? 0) / total;
    };
    const penalised = await run('1s');
    const unpenalised = await run('0ms');
    assert.ok(penalised < 0.02, `failing endpoint got ${penalised} with the penalty`);
    assert.ok(unpenalised > 0.3, `failing endpoint got ${unpenalised} without the penalty`);
  });

  it('divides load by weight when weights differ: slow start holds a joining endpoint back until it has ramped up', async () => {
    const clock = new VirtualClock(0, 4);
    const list = endpoints(6);
    const joining = list[5] as Endpoint;
    // The default RTT equals the fleet's, so only the weight tells the joining endpoint apart.
    const balancer = peakEwma({ defaultRttMs: 10 }).create({ service: 's', clock });
    const detector = new EndpointHealthFilter(resolveOutlierDetection({ slowStart: { window: '10s' } }), clock, () => {});
    detector.setEndpoints(list.slice(0, 5));
    balancer.update(detector.available);
    for (const endpoint of list.slice(0, 5)) observe(balancer, endpoint, 10);
    // Those answers ended at 10 ms (start 0 + 10 ms); the newcomer's estimate starts then too, so all are equal.
    await clock.advance(10);
    detector.setEndpoints(list); // joins after the first set: weight 10 %, ramping over 10 s
    const share = (): number => {
      const picker = balancer.update(detector.available);
      let picked = 0;
      for (let i = 0; i < 6000; i++) if (picker.pick(newCall())?.id === joining.id) picked++;
      return picked / 6000;
    };
    assert.ok(Math.abs((detector.available[5]?.weight ?? 0) - 0.1) < 1e-9);
    assert.equal(share(), 0, 'at 10 % weight it loses every comparison with an equally fast endpoint');
    await clock.advance(11_000);
    assert.equal(detector.available[5], joining, 'ramped up: full weight');
    const after = share();
    assert.ok(after > 0.12 && after < 0.22, `after the window it takes its share: ${after}`);
    detector.close();
  });

  it('caller aborts are not held against the endpoint', () => {
    const clock = new VirtualClock();
    const [a, b] = endpoints(2) as [Endpoint, Endpoint];
    const balancer = peakEwma().create({ service: 's', clock });
    const picker = balancer.update([a, b]);
    observe(balancer, a, 5);
    observe(balancer, b, 10);
    observe(balancer, a, 1, Outcomes.aborted);
    assert.equal(picker.pick(newCall()), a);
    observe(balancer, a, 1, Outcomes.timeout);
    assert.equal(picker.pick(newCall()), b);
  });

  it('keeps costs by endpoint id across updates and starts new endpoints at defaultRttMs', () => {
    const clock = new VirtualClock();
    const [a, b, c] = endpoints(3) as [Endpoint, Endpoint, Endpoint];
    const balancer = peakEwma({ defaultRttMs: 50 }).create({ service: 's', clock });
    balancer.update([a, b]);
    observe(balancer, a, 100);
    observe(balancer, b, 20);
    const picker = balancer.update([a, c]); // a keeps 100; c is new at 50
    for (let i = 0; i < 20; i++) assert.equal(picker.pick(newCall()), c);
    const back = balancer.update([a, b]); // b returns fresh at 50, not its old 20
    observe(balancer, a, 40);
    for (let i = 0; i < 20; i++) assert.equal(back.pick(newCall()), b);
    assert.equal(balancer.update([]).pick(newCall()), undefined);
  });

  it('an update that adds, removes and reorders endpoints keeps the stayers\' costs and in-flight counts, drops the leavers, and picks read the right ones', () => {
    const clock = new VirtualClock();
    const [a, b, c, d] = endpoints(4) as [Endpoint, Endpoint, Endpoint, Endpoint];
    const balancer = peakEwma({ defaultRttMs: 50 }).create({ service: 's', clock });
    balancer.update([a, b, c]);
    observe(balancer, a, 10);
    observe(balancer, b, 200);
    observe(balancer, c, 100);
    load(balancer, c, 2);
    const picker = balancer.update([d, c, a]); // b leaves, d joins, a and c change places
    const described = (e: Endpoint) => balancer.describe?.(e);
    assert.deepEqual(described(a), { inFlight: 0, latencyMs: 10, load: 10 });
    assert.deepEqual(described(c), { inFlight: 2, latencyMs: 100, load: 300 });
    assert.deepEqual(described(d), { inFlight: 0, latencyMs: 50, load: 50 });
    assert.equal(described(b), undefined);
    // Loads a 10 < d 50 < c 300: of any two, c never wins, and a wins every pair it is in.
    const counts = tally(Array.from({ length: 3000 }, () => picker.pick(newCall())));
    assert.equal(counts.get(c.id), undefined);
    assert.ok((counts.get(a.id) ?? 0) > (counts.get(d.id) ?? 0) * 1.5, JSON.stringify([...counts]));
    balancer.update([d, c, a, b]); // b is back, fresh
    assert.deepEqual(described(b), { inFlight: 0, latencyMs: 50, load: 50 });
    assert.deepEqual(described(c), { inFlight: 2, latencyMs: 100, load: 300 });
  });

  it('retries avoid tried endpoints even when they are the cheapest', () => {
    const clock = new VirtualClock(0, 2);
    const list = endpoints(3);
    const balancer = peakEwma().create({ service: 's', clock });
    const picker = balancer.update(list);
    observe(balancer, list[0] as Endpoint, 1);
    for (let i = 0; i < 50; i++) assert.notEqual(picker.pick(newCall(undefined, [list[0] as Endpoint])), list[0]);
  });

  it('validates options, naming balancer.<option>', () => {
    for (const [options, option] of [
      [{ decay: 0 }, 'balancer.decay'], [{ decay: 'soon' }, 'balancer.decay'],
      [{ defaultRttMs: -1 }, 'balancer.defaultRttMs'], [{ failurePenalty: 'x' }, 'balancer.failurePenalty'],
      [{ tau: 1 }, 'balancer.tau'], [5, 'balancer'],
    ] as const) {
      assert.throws(() => peakEwma(options as never), (e: unknown) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === option, option);
    }
    assert.equal(peakEwma({ decay: '30s', defaultRttMs: 5, failurePenalty: '500ms' }).name, 'p2c-peak-ewma');
  });
});
