import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planScenario } from '../../../src/sim/scenario-plan.js';
import { validateScenario, type ScenarioLatency } from '../../../src/sim/scenario.js';
import { scenarioNames, scenarios, TAIL_AT_SCALE_READ } from '../../../src/sim/scenarios/index.js';

describe('shipped scenarios', () => {
  it('are registered by their own names, in the documented order', () => {
    assert.deepEqual(scenarioNames(), ['linkerd-2016', 'linkerd-2017', 'tail-at-scale', 'retry-storm', 'fleet-scale']);
    for (const [name, scenario] of Object.entries(scenarios)) assert.equal(scenario.name, name);
    assert.ok(Object.isFrozen(scenarios));
  });

  it('are valid, survive a JSON round trip, and plan at full and reduced size', () => {
    for (const scenario of Object.values(scenarios)) {
      const json = JSON.parse(JSON.stringify(scenario)) as unknown;
      assert.deepEqual(validateScenario(json), scenario, scenario.name);
      const full = planScenario(scenario);
      const small = planScenario(scenario, { scale: 0.1 });
      assert.ok(small.durationMs < full.durationMs, scenario.name);
      assert.ok(full.published.every((figure) => full.variants.some((variant) => variant.name === figure.variant)), scenario.name);
    }
  });

  it('keep the published setups', () => {
    const l16 = planScenario(scenarios['linkerd-2016']);
    assert.equal(l16.services[0]!.instances, 11);
    assert.equal(l16.variants[0]!.clients[0]!.load!.rate, 1000);
    assert.equal(l16.durationMs, 60_000);
    const slow = l16.services[0]!.timeline;
    assert.deepEqual(slow.map((e) => [e.at, e.backends]), [[15_000, [0]], [45_000, [0]]]);
    assert.equal(slow[0]!.set!.latency, 2000);
    assert.deepEqual(l16.variants.map((v) => v.name), ['round-robin', 'least-request', 'peak-ewma', 'recommended']);
    assert.deepEqual(l16.variants[0]!.clients[0]!.stack.retry, false);

    const l17 = planScenario(scenarios['linkerd-2017']);
    assert.equal(l17.services[0]!.instances, 5);
    assert.equal(l17.services[0]!.timeline[0]!.set!.errorRate, 0.4);

    const tail = planScenario(scenarios['tail-at-scale']);
    assert.equal(tail.services[0]!.instances, 100);
    assert.equal(tail.variants[0]!.clients[0]!.load!.fanout, 1000);

    const storm = planScenario(scenarios['retry-storm']);
    assert.deepEqual(storm.services.map((s) => s.handler?.call), ['front-to-mid', 'mid-to-db', undefined]);
    assert.equal(storm.services[2]!.behaviour.errorRate, 1);

    const fleet = planScenario(scenarios['fleet-scale']);
    assert.equal(fleet.services[0]!.instances, 1000);
    assert.equal(fleet.variants[0]!.clients[0]!.replicas, 100);
    // 100 clients x 20 req/s for 10 minutes: 1.2 million calls.
    assert.equal(fleet.variants[0]!.clients[0]!.replicas * fleet.variants[0]!.clients[0]!.load!.rate * fleet.durationMs / 1000, 1_200_000);
    // Every instance restarts within the run.
    assert.equal(fleet.services[0]!.rejoins.length, 1000);
  });
});

// The Tail at Scale model, checked analytically (the derivation in docs/simulator.md).

/** Upper tail of the standard normal: A&S 7.1.26 near the middle, a continued fraction in the tail. */
function normalTail(z: number): number {
  if (z < 0) return 1 - normalTail(-z);
  if (z < 3) {
    const x = z / Math.SQRT2;
    const t = 1 / (1 + 0.3275911 * x);
    const erfc = (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
    return erfc / 2;
  }
  let fraction = 0;
  for (let k = 60; k >= 1; k--) fraction = k / (z + fraction);
  return Math.exp(-z * z / 2) / Math.sqrt(2 * Math.PI) / (z + fraction);
}

/** P(latency > t) for the latency forms the model uses (numbers in ms). */
function survival(spec: ScenarioLatency, t: number): number {
  if (typeof spec === 'number') return t < spec ? 1 : 0;
  if (typeof spec === 'object' && 'mixture' in spec) {
    const total = spec.mixture.reduce((sum, part) => sum + part.weight, 0);
    return spec.mixture.reduce((sum, part) => sum + (part.weight / total) * survival(part.latency, t), 0);
  }
  if (typeof spec === 'object' && 'uniform' in spec) {
    const { min, max } = spec.uniform as { min: number; max: number };
    return t <= min ? 1 : t >= max ? 0 : (max - t) / (max - min);
  }
  if (typeof spec === 'object' && 'lognormal' in spec) {
    const { median, p99 } = spec.lognormal as { median: number; p99: number };
    const sigma = Math.log(p99 / median) / 2.3263478740408408;
    return t <= 0 ? 1 : normalTail(Math.log(t / median) / sigma);
  }
  throw new Error('form not used by the model');
}

/** The t where a decreasing survival function crosses `target`. */
function crossing(s: (t: number) => number, target: number): number {
  let low = 0;
  let high = 100_000;
  for (let i = 0; i < 100; i++) {
    const mid = (low + high) / 2;
    if (s(mid) > target) low = mid;
    else high = mid;
  }
  return low;
}

describe('the Tail at Scale read model', () => {
  // A user request waits for the slowest of 1,000 reads: P(max <= t) = F(t)^1000, so its
  // p99.9 is where a read's survival is 1 - 0.999^(1/1000), about 1e-6.
  const perRead = 1 - 0.999 ** (1 / 1000);
  const read = (t: number): number => survival(TAIL_AT_SCALE_READ, t);

  it('gives the published unhedged p99.9 of 1,000 reads (1,800 ms)', () => {
    const p999 = crossing(read, perRead);
    assert.ok(p999 > 1700 && p999 < 1900, `p99.9 ${p999}`);
  });

  it('gives the published hedged p99.9 (74 ms) with 2 % more requests when hedging after 10 ms', () => {
    // A hedged read takes min(X1, 10 + X2): slower than t only if both are.
    const hedged = (t: number): number => read(t) * (t > 10 ? read(t - 10) : 1);
    const p999 = crossing(hedged, perRead);
    assert.ok(p999 > 70 && p999 < 78, `hedged p99.9 ${p999}`);
    const hedges = read(10);
    assert.ok(hedges > 0.019 && hedges < 0.022, `hedge rate ${hedges}`);
  });

  it('is an ordinary fast read most of the time', () => {
    const median = crossing(read, 0.5);
    assert.ok(median > 1.5 && median < 2.5, `median ${median}`);
  });
});
