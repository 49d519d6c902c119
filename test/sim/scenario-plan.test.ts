import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isMeshkitError } from '../../src/core/errors.js';
import { planScenario } from '../../src/sim/scenario-plan.js';
import type { Scenario } from '../../src/sim/scenario.js';

const fleet: Scenario = {
  name: 'fleet',
  description: 'a restart and a degraded zone',
  duration: '100s',
  services: [{
    name: 'api',
    instances: 30,
    zones: ['a', 'b', 'c'],
    behaviour: { latency: { mixture: [{ weight: 0.9, latency: '2ms' }, { weight: 0.1, latency: { uniform: { min: '10ms', max: '1s' } } }] } },
    timeline: [
      { at: '20s', backends: { zone: 'c' }, set: { errorRate: 0.5 } },
      { at: '40s', backends: [0, 29], down: true },
    ],
    rollingRestart: { start: '10s', interval: '2s', drain: '1s', downtime: '5s' },
  }],
  clients: [{
    name: 'callers', service: 'api', zones: ['a', 'b', 'c'], replicas: 10,
    stack: { timeout: { total: '1s' }, balancer: 'leastRequest' },
    load: { type: 'open', rate: 50, start: '10s', duration: '50s' },
  }],
  variants: [
    { name: 'least-request' },
    { name: 'round-robin', stack: { balancer: 'roundRobin' }, clients: { callers: { retry: false } } },
  ],
  scaling: { instances: true, replicas: true },
};

describe('planScenario', () => {
  it('expands variants: the variant stack, then its per-client stack, over the client stack, key by key', () => {
    const plan = planScenario(fleet);
    assert.deepEqual(plan.variants.map((v) => v.name), ['least-request', 'round-robin']);
    assert.deepEqual(plan.variants[0]!.clients[0]!.stack, { timeout: { total: '1s' }, balancer: 'leastRequest' });
    assert.deepEqual(plan.variants[1]!.clients[0]!.stack, { timeout: { total: '1s' }, balancer: 'roundRobin', retry: false });
    assert.equal(plan.variants[0]!.clients[0]!.replicas, 10);
    assert.deepEqual(plan.variants[0]!.clients[0]!.zones.slice(0, 4), ['a', 'b', 'c', 'a']);
  });

  it('gives one default variant when there are none', () => {
    const { variants: _, ...single } = fleet;
    const plan = planScenario(single);
    assert.deepEqual(plan.variants.map((v) => v.name), ['default']);
    assert.deepEqual(plan.measures.map((m) => [m.variant, m.metric, m.client]), [['default', 'successRate', 'callers'], ['default', 'p99', 'callers']]);
  });

  it('turns times into ms, zones into indices, and a rolling restart into per-instance events in time order', () => {
    const plan = planScenario(fleet);
    const api = plan.services[0]!;
    assert.equal(plan.durationMs, 100_000);
    assert.deepEqual(api.behaviour.latency, { mixture: [{ weight: 0.9, latency: 2 }, { weight: 0.1, latency: { uniform: { min: 10, max: 1000 } } }] });
    const zoneC = api.timeline.find((event) => event.set !== undefined)!;
    assert.equal(zoneC.at, 20_000);
    assert.deepEqual(zoneC.backends, [2, 5, 8, 11, 14, 17, 20, 23, 26, 29]);
    // Instance 0 leaves at 10 s, stops at 11 s, is back at 16 s.
    assert.deepEqual(api.timeline.filter((e) => e.backends !== 'all' && e.backends[0] === 0 && e.set === undefined && e.at < 40_000),
      [{ at: 10_000, backends: [0], leave: true }, { at: 11_000, backends: [0], down: true }, { at: 16_000, backends: [0], up: true, join: true }]);
    for (let i = 1; i < api.timeline.length; i++) assert.ok(api.timeline[i]!.at >= api.timeline[i - 1]!.at);
    // 30 instances, 2 s apart from 10 s: the last leaves at 68 s and is back at 74 s.
    assert.equal(api.rejoins.length, 30);
    assert.deepEqual(api.rejoins[29], [29, 74_000]);
    const load = plan.variants[0]!.clients[0]!.load!;
    assert.deepEqual([load.startMs, load.durationMs, load.rate, load.fanout, load.path], [10_000, 50_000, 50, 1, '/']);
  });

  it('scale shrinks time, and instances and replicas where allowed, keeping the shape', () => {
    const plan = planScenario(fleet, { scale: 0.2 });
    const api = plan.services[0]!;
    assert.equal(plan.durationMs, 20_000);
    assert.equal(api.instances, 6);
    assert.equal(plan.variants[0]!.clients[0]!.replicas, 3);
    const load = plan.variants[0]!.clients[0]!.load!;
    assert.deepEqual([load.startMs, load.durationMs, load.rate], [2_000, 10_000, 50]);
    // The degraded zone still covers a third of the (fewer) instances, at a fifth of the time.
    const zoneC = api.timeline.find((event) => event.set !== undefined)!;
    assert.deepEqual([zoneC.at, zoneC.backends], [4_000, [2, 5]]);
    // Index 29 no longer exists: the event keeps index 0 only.
    const down = api.timeline.find((event) => event.down === true && event.at === 8_000)!;
    assert.deepEqual(down.backends, [0]);
    // The restart keeps its share of the run: 6 instances, one every 2 s from 2 s; downtime and drain stay.
    assert.deepEqual(api.rejoins, [[0, 8_000], [1, 10_000], [2, 12_000], [3, 14_000], [4, 16_000], [5, 18_000]]);
  });

  it('keeps sizes a scenario does not allow to scale, and never goes below one instance per zone', () => {
    const { scaling: _, ...fixed } = fleet;
    const plan = planScenario(fixed, { scale: 0.1 });
    assert.equal(plan.services[0]!.instances, 30);
    assert.equal(plan.variants[0]!.clients[0]!.replicas, 10);
    const tiny = planScenario(fleet, { scale: 0.01 });
    assert.equal(tiny.services[0]!.instances, 3);
    assert.equal(tiny.variants[0]!.clients[0]!.replicas, 3);
  });

  it('overrides the seed, and refuses a bad scale or seed', () => {
    assert.equal(planScenario(fleet).seed, 1);
    assert.equal(planScenario({ ...fleet, seed: 9 }).seed, 9);
    assert.equal(planScenario({ ...fleet, seed: 9 }, { seed: 4 }).seed, 4);
    for (const scale of [0, -0.5, 1.5, Number.NaN]) {
      assert.throws(() => planScenario(fleet, { scale }), (error: unknown) => isMeshkitError(error, 'ERR_INVALID_CONFIG') && error.details['option'] === 'options.scale');
    }
    assert.throws(() => planScenario(fleet, { seed: -1 }), (error: unknown) => isMeshkitError(error, 'ERR_INVALID_CONFIG') && error.details['option'] === 'options.seed');
    assert.throws(() => planScenario(fleet, { scale: 1e-6 }), (error: unknown) => isMeshkitError(error, 'ERR_INVALID_CONFIG') && error.details['option'] === 'options.scale');
    assert.throws(() => planScenario(fleet, { sclae: 0.5 } as never), (error: unknown) => isMeshkitError(error, 'ERR_INVALID_CONFIG')
      && error.details['option'] === 'options.sclae' && /did you mean `scale`/.test(error.message));
  });
});
