import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Outcomes, toEndpoint, type Endpoint, type Outcome } from '../../src/index.js';
import { EndpointHealthFilter } from '../../src/health/endpoint-health-filter.js';
import { resolveOutlierDetection, type OutlierDetectionOptions } from '../../src/health/outlier-options.js';
import { HttpStatusClassifier } from '../../src/transports/http-classifier.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import { countedEndpoint } from '../helpers/counted-endpoint.js';

const statuses = new HttpStatusClassifier();
const ok: Outcome = Outcomes.success;
const unavailable: Outcome = statuses.classify(503);
const internalError: Outcome = statuses.classify(500);

function fleet(count: number): Endpoint[] {
  return Array.from({ length: count }, (_, i) => toEndpoint(`127.0.0.1:${2000 + i}`, 'e'));
}

function detector(options: OutlierDetectionOptions = {}, clock = new VirtualClock()) {
  let changes = 0;
  const d = new EndpointHealthFilter(resolveOutlierDetection(options), clock, () => changes++);
  return { d, clock, changes: () => changes };
}

const ids = (endpoints: readonly Endpoint[]): string[] => endpoints.map((e) => e.id);

describe('EndpointHealthFilter', () => {
  it('ejects after 5 consecutive gateway failures, not after 4 or after plain 500s', () => {
    const { d, changes } = detector({ maxEjectionPercent: 50 });
    const [a, b] = fleet(2) as [Endpoint, Endpoint];
    d.setEndpoints([a, b]);
    for (let i = 0; i < 4; i++) d.observe(a, unavailable);
    d.observe(a, ok); // a success breaks the run
    for (let i = 0; i < 4; i++) d.observe(a, unavailable);
    for (let i = 0; i < 10; i++) d.observe(b, internalError);
    assert.deepEqual(ids(d.available), [a.id, b.id]);
    d.observe(a, Outcomes.connect);
    assert.deepEqual(ids(d.available), [b.id]);
    assert.equal(changes(), 1);
    const health = d.snapshot().find((h) => h.id === a.id);
    assert.deepEqual([health?.ejected, health?.reason, health?.ejections], [true, 'consecutive-gateway-failures', 1]);
    d.close();
  });

  it('returns an ejected endpoint at the review after base time x ejections, capped', async () => {
    const { d, clock } = detector({ interval: '10s', baseEjectionTime: '30s', maxEjectionTime: '50s', maxEjectionPercent: 50, panicThreshold: 0 });
    const [a, b] = fleet(2) as [Endpoint, Endpoint];
    d.setEndpoints([a, b]);
    const eject = () => { for (let i = 0; i < 5; i++) d.observe(a, unavailable); };
    eject();
    await clock.advance(25_000);
    assert.deepEqual(ids(d.available), [b.id], 'still out before 30 s');
    await clock.advance(10_000); // review at 30 s returns it
    assert.deepEqual(ids(d.available), [a.id, b.id]);
    eject(); // second ejection: 60 s, capped at 50 s
    const ejectedAt = clock.now();
    assert.equal(d.snapshot().find((h) => h.id === a.id)?.ejectedForMs, 50_000);
    await clock.advance(45_000);
    assert.deepEqual(ids(d.available), [b.id]);
    await clock.advance(20_000);
    assert.deepEqual(ids(d.available), [a.id, b.id]);
    assert.ok(clock.now() - ejectedAt <= 65_000);
    d.close();
  });

  it('never ejects more than maxEjectionPercent, but always allows one', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 100 }), (count, percent) => {
      const { d } = detector({ maxEjectionPercent: percent, panicThreshold: 0 });
      const endpoints = fleet(count);
      d.setEndpoints(endpoints);
      for (const e of endpoints) for (let i = 0; i < 5; i++) d.observe(e, unavailable);
      const ejected = d.snapshot().filter((h) => h.ejected).length;
      assert.equal(ejected, Math.max(1, Math.floor((count * percent) / 100)));
      assert.equal(d.available.length, count - ejected);
      d.close();
    }));
  });

  it('uses every endpoint in panic mode (below the healthy threshold)', () => {
    const { d } = detector({ maxEjectionPercent: 100, panicThreshold: 50 });
    const endpoints = fleet(4);
    d.setEndpoints(endpoints);
    const fail = (e: Endpoint) => { for (let i = 0; i < 5; i++) d.observe(e, unavailable); };
    fail(endpoints[0] as Endpoint);
    fail(endpoints[1] as Endpoint);
    assert.equal(d.available.length, 2, '50 % healthy is not below the threshold');
    fail(endpoints[2] as Endpoint);
    assert.deepEqual(ids(d.available), ids(endpoints), '25 % healthy: panic, all endpoints');
    d.close();
  });

  it('ejects success-rate outliers below mean - 1.9 stdev among enough busy hosts', async () => {
    const { d, clock } = detector({ consecutiveGatewayFailures: 0, maxEjectionPercent: 50, successRate: { minimumHosts: 5, requestVolume: 100 } });
    const endpoints = fleet(6);
    d.setEndpoints(endpoints);
    endpoints.forEach((e, i) => {
      for (let n = 0; n < 200; n++) d.observe(e, i === 0 ? (n % 2 === 0 ? ok : internalError) : (n % 50 === 0 ? internalError : ok));
    });
    await clock.advance(10_000);
    const ejected = d.snapshot().filter((h) => h.ejected);
    assert.deepEqual(ejected.map((h) => [h.id, h.reason]), [[endpoints[0]?.id, 'success-rate']]);
    d.close();
  });

  it('skips the success-rate rule with too few busy hosts', async () => {
    const { d, clock } = detector({ consecutiveGatewayFailures: 0, maxEjectionPercent: 50 });
    const endpoints = fleet(4);
    d.setEndpoints(endpoints);
    endpoints.forEach((e, i) => { for (let n = 0; n < 200; n++) d.observe(e, i === 0 ? internalError : ok); });
    await clock.advance(10_000);
    assert.equal(d.snapshot().filter((h) => h.ejected).length, 0);
    d.close();
  });

  it('ramps new and returning endpoints with slow start', async () => {
    const { d, clock } = detector({ slowStart: { window: '10s', aggression: 1, minWeightPercent: 10 }, maxEjectionPercent: 50, panicThreshold: 0 });
    const [a, b] = fleet(2) as [Endpoint, Endpoint];
    d.setEndpoints([a]);
    assert.equal(d.available[0]?.weight, 1, 'the first set does not ramp');
    d.setEndpoints([a, b]);
    assert.ok(Math.abs((d.available[1]?.weight ?? 0) - 0.1) < 1e-9, 'starts at the minimum weight');
    await clock.advance(5_000);
    assert.ok(Math.abs((d.available[1]?.weight ?? 0) - 0.5) < 0.011, `half way: ${d.available[1]?.weight}`);
    await clock.advance(6_000);
    assert.equal(d.available[1], b, 'after the window: the endpoint itself, full weight');
    d.close();
  });

  it('ramps an endpoint returning from ejection with slow start, from the minimum weight to full over the window', async () => {
    const { d, clock } = detector({
      interval: '1s', baseEjectionTime: '2s', maxEjectionPercent: 50, panicThreshold: 0,
      slowStart: { window: '10s', aggression: 1, minWeightPercent: 10 },
    });
    const [a, b] = fleet(2) as [Endpoint, Endpoint];
    d.setEndpoints([a, b]);
    for (let i = 0; i < 5; i++) d.observe(a, unavailable);
    assert.deepEqual(ids(d.available), [b.id]);
    assert.equal(d.snapshot().find((h) => h.id === a.id)?.slowStartFactor, undefined, 'no ramp while ejected');
    await clock.advance(2_000); // the review at 2 s returns it
    const returned = d.available.find((e) => e.id === a.id);
    assert.ok(returned !== undefined && Math.abs(returned.weight - 0.1) < 1e-9, `returns at 10 %: ${returned?.weight}`);
    assert.ok(Math.abs((d.snapshot().find((h) => h.id === a.id)?.slowStartFactor ?? 0) - 0.1) < 1e-9);
    await clock.advance(5_000);
    const half = d.available.find((e) => e.id === a.id)?.weight ?? 0;
    assert.ok(half > 0.45 && half < 0.55, `half way through the window: ${half}`);
    await clock.advance(6_000);
    assert.equal(d.available.find((e) => e.id === a.id), a, 'after the window: the endpoint itself, full weight');
    assert.equal(d.snapshot().find((h) => h.id === a.id)?.slowStartFactor, undefined);
    d.close();
  });

  it('ignores aborted attempts: they neither break a failure run nor count for the success rate', () => {
    const { d } = detector({ maxEjectionPercent: 50, panicThreshold: 0 });
    const [a, b] = fleet(2) as [Endpoint, Endpoint];
    d.setEndpoints([a, b]);
    for (let i = 0; i < 4; i++) d.observe(a, unavailable);
    d.observe(a, Outcomes.aborted);
    d.observe(a, unavailable);
    assert.deepEqual(ids(d.available), [b.id]);
    d.close();
  });

  it('forgets endpoints that leave and keeps state for those that stay', () => {
    const { d } = detector({ maxEjectionPercent: 50, panicThreshold: 0 });
    const [a, b, c] = fleet(3) as [Endpoint, Endpoint, Endpoint];
    d.setEndpoints([a, b, c]);
    for (let i = 0; i < 5; i++) d.observe(a, unavailable);
    d.setEndpoints([a, b]);
    assert.deepEqual(ids(d.available), [b.id]);
    assert.equal(d.snapshot().length, 2);
    d.close();
  });

  it('rejects bad options naming them', () => {
    for (const [options, option] of [
      [{ consecutiveGatewayFailures: -1 }, 'outlierDetection.consecutiveGatewayFailures'],
      [{ maxEjectionPercent: 101 }, 'outlierDetection.maxEjectionPercent'],
      [{ interval: '0s' }, 'outlierDetection.interval'],
      [{ baseEjectionTime: '10s', maxEjectionTime: '1s' }, 'outlierDetection.maxEjectionTime'],
      [{ slowStart: { window: 'soon' } }, 'outlierDetection.slowStart.window'],
      [{ successRate: { stdevFactor: 0 } }, 'outlierDetection.successRate.stdevFactor'],
    ] as const) {
      assert.throws(() => resolveOutlierDetection(options as never), (e: unknown) => (e as { details?: { option?: string } }).details?.option === option);
    }
  });
});

describe('EndpointHealthFilter: set updates', () => {
  it('an update that adds, removes and reorders keeps the stayers\' ejections and counters, drops the leavers, and follows the new order', async () => {
    const { d, clock } = detector({ maxEjectionPercent: 50, panicThreshold: 0 });
    const [a, b, c, e, f] = fleet(5) as [Endpoint, Endpoint, Endpoint, Endpoint, Endpoint];
    d.setEndpoints([a, b, c, e]);
    for (let i = 0; i < 5; i++) d.observe(b, unavailable); // b ejected
    for (let i = 0; i < 3; i++) d.observe(c, unavailable);
    for (let i = 0; i < 5; i++) d.observe(a, unavailable); // a ejected too
    d.setEndpoints([e, c, b, f]); // a leaves, f joins, the order changes
    assert.deepEqual(ids(d.available), [e.id, c.id, f.id]);
    const health = d.snapshot();
    assert.deepEqual(ids(health as never), [e.id, c.id, b.id, f.id]);
    const of = (id: string) => health.find((h) => h.id === id);
    assert.deepEqual([of(b.id)?.ejected, of(b.id)?.reason, of(b.id)?.ejections], [true, 'consecutive-gateway-failures', 1]);
    assert.equal(of(c.id)?.consecutiveGatewayFailures, 3);
    assert.equal(of(f.id)?.ejections, 0);
    // a's ejection left with it: back, it is fresh; and the cap (50 % of 5) now counts b only, so c can go.
    d.setEndpoints([a, e, c, b, f]);
    assert.deepEqual(ids(d.available), [a.id, e.id, c.id, f.id]);
    assert.deepEqual([d.snapshot()[0]?.ejected, d.snapshot()[0]?.ejections, d.snapshot()[0]?.consecutiveGatewayFailures], [false, 0, 0]);
    for (let i = 0; i < 2; i++) d.observe(c, unavailable);
    assert.deepEqual(ids(d.available), [a.id, e.id, f.id], 'c ejected at its fifth failure in a row, counted across the updates');
    await clock.advance(60_000); // b's 30 s is over: it returns in its place in the set
    assert.deepEqual(ids(d.available), [a.id, e.id, c.id, b.id, f.id]);
    d.close();
  });

  it('an id named twice counts once, at its first place, as its last object', () => {
    const { d } = detector();
    const [a, b] = fleet(2) as [Endpoint, Endpoint];
    const a2 = toEndpoint(a.id, 'e');
    d.setEndpoints([a, b, a2]);
    assert.deepEqual(ids(d.snapshot() as never), [a.id, b.id]);
    assert.equal(d.available[0], a2);
    assert.equal(d.available.length, 2);
    d.setEndpoints([b, a]);
    assert.equal(d.available[1], a);
    d.close();
  });

  it('a one-endpoint change of a 1,000-endpoint set reads a handful of ids, not the whole set', () => {
    const counter = { reads: 0 };
    const endpoints = fleet(1000).map((e) => countedEndpoint(e, counter));
    const { d } = detector();
    d.setEndpoints(endpoints);
    const leaving = endpoints[500] as Endpoint;
    counter.reads = 0;
    d.setEndpoints(endpoints.filter((e) => e !== leaving));
    d.setEndpoints([...endpoints.filter((e) => e !== leaving), leaving]);
    assert.ok(counter.reads <= 6, `${counter.reads} id reads`);
    assert.equal(d.available.length, 1000);
    d.close();
  });
});
