import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  compareRuns, formatMetric, measureRun, publishedOrders, recoveryMs, type MeasuredClient, type MeasuredRun,
} from '../../src/sim/scenario-measure.js';
import { scenarios } from '../../src/sim/scenarios/index.js';
import { planScenario } from '../../src/sim/scenario-plan.js';
import type { Scenario } from '../../src/sim/scenario.js';

const scenario: Scenario = {
  name: 'measured',
  description: 'two variants, a tier and a restart',
  duration: '10s',
  services: [
    { name: 'front', instances: 1, handler: { call: 'front-to-db' } },
    { name: 'db', instances: 4, rollingRestart: { start: '1s', interval: '1s', downtime: '1s' } },
  ],
  clients: [
    { name: 'edge', service: 'front', load: { type: 'open', rate: 10 } },
    { name: 'front-to-db', service: 'db' },
  ],
  variants: [{ name: 'a' }, { name: 'b' }],
  published: [
    { label: 'a: success', value: 0.95, source: 'a paper', variant: 'a', metric: 'successRate' },
    { label: 'b: requests at db', value: 64, source: 'arithmetic', variant: 'b', metric: 'amplification', service: 'db' },
  ],
  measures: [{ metric: 'p99' }, { metric: 'attemptsPerCall', client: 'front-to-db' }, { metric: 'recoveryMs', service: 'db' }],
};

function client(name: string, overrides: Partial<MeasuredClient> = {}): MeasuredClient {
  return {
    name, userRequests: 100, successRate: 0.97, attemptsPerCall: 1.25, hedgesPerCall: 0.02, retriesPerCall: 0.25,
    latencyMs: { p50: 2, p90: 5, p99: 40.25, p999: 1800, max: 2500 }, ...overrides,
  };
}

/**
 * A run of 10 one-second buckets: front sees 100 requests per bucket; each db
 * backend 50 per bucket, except that backend i (restarted at 1 + i s, back at
 * 2 + i s) gets nothing while out and `firstBack` in its first bucket back.
 */
function run(firstBack: number): MeasuredRun {
  const db = [0, 1, 2, 3].map((index) => {
    const requests = Array.from({ length: 10 }, (_, k) => (k === index + 1 ? 0 : k === index + 2 ? firstBack : k === index + 3 ? 50 : 50));
    return { service: 'db', totalRequests: requests.reduce((a, b) => a + b, 0), requests };
  });
  const front = { service: 'front', totalRequests: 1000, requests: Array.from({ length: 10 }, () => 100) };
  return { bucketMs: 1000, clients: [client('edge'), client('front-to-db', { userRequests: 0, attemptsPerCall: 3.5 })], backends: [front, ...db] };
}

describe('scenario measures', () => {
  const plan = planScenario(scenario);

  it('reads client metrics, and none that a client without user requests cannot have', () => {
    const r = run(50);
    assert.equal(measureRun(r, plan, { variant: 'a', metric: 'successRate' }), 0.97);
    assert.equal(measureRun(r, plan, { variant: 'a', metric: 'p999' }), 1800);
    assert.equal(measureRun(r, plan, { variant: 'a', metric: 'attemptsPerCall', client: 'front-to-db' }), 3.5);
    assert.equal(measureRun(r, plan, { variant: 'a', metric: 'successRate', client: 'front-to-db' }), undefined);
    assert.equal(measureRun(r, plan, { variant: 'a', metric: 'p99', client: 'nobody' }), undefined);
  });

  it("counts amplification as the service's arrivals per user request", () => {
    const r = run(50);
    const arrivals = r.backends.filter((b) => b.service === 'db').reduce((sum, b) => sum + b.totalRequests, 0);
    assert.equal(measureRun(r, plan, { variant: 'b', metric: 'amplification', service: 'db' }), arrivals / 100);
    assert.equal(measureRun(r, plan, { variant: 'b', metric: 'amplification' }), 10); // the edge's own service: front
  });

  it('times how long restarted instances take to get their share back', () => {
    // Restarted instances rejoin at 2, 3, 4, 5 s, at the start of a bucket.
    assert.deepEqual(plan.services[1]!.rejoins, [[0, 2000], [1, 3000], [2, 4000], [3, 5000]]);
    assert.equal(recoveryMs(run(50), plan, 'db'), 1000, 'at their share in the first bucket back');
    // Under 80 % of the mean in that bucket (25 of 37.5 or 50): recovered one bucket later.
    assert.equal(recoveryMs(run(25), plan, 'db'), 2000);
    assert.equal(recoveryMs(run(50), plan, 'front'), undefined, 'front never restarts');
  });

  it('builds the comparison rows: published figures first, then every measure per variant', () => {
    const rows = compareRuns(plan, new Map([['a', run(50)], ['b', run(50)]]));
    assert.deepEqual(rows.map((row) => [row.label, row.published, row.meshkit]).slice(0, 2), [
      ['a: success', '95.00 %', '97.00 %'],
      ['b: requests at db', '64.0x', '18.0x'], // 4 backends x 450 requests / 100 user requests
    ]);
    assert.equal(rows.length, 2 + 3 * 2);
    assert.deepEqual(rows.slice(2).map((row) => row.label), [
      'a: p99 (edge)', 'b: p99 (edge)',
      'a: attempts per call (front-to-db)', 'b: attempts per call (front-to-db)',
      'a: time to get its share back (edge)', 'b: time to get its share back (edge)',
    ]);
    assert.ok(rows.slice(2).every((row) => row.published === '-' && row.source === undefined));
    assert.equal(rows[0]!.source, 'a paper');
    const missing = compareRuns(plan, new Map([['a', run(50)]]));
    assert.equal(missing[1]!.meshkit, 'n/a');
  });

  it('formats each metric the way its column shows it', () => {
    assert.equal(formatMetric('successRate', 0.999), '99.90 %');
    assert.equal(formatMetric('hedgesPerCall', 0.0203), '2.0 %');
    assert.equal(formatMetric('attemptsPerCall', 1.2), '1.20');
    assert.equal(formatMetric('amplification', 64), '64.0x');
    assert.equal(formatMetric('p999', 1809.7), '1,810 ms');
    assert.equal(formatMetric('p50', 2.04), '2.0 ms');
    assert.equal(formatMetric('recoveryMs', undefined), 'n/a');
  });

  it('derives the direction of every published result from figures of one metric and client', () => {
    const l16 = planScenario(scenarios['linkerd-2016']);
    const orders = publishedOrders(compareRuns(l16, new Map()));
    assert.deepEqual(orders.map((o) => [o.lower.variant, o.higher.variant]), [
      ['round-robin', 'least-request'], ['round-robin', 'peak-ewma'], ['least-request', 'peak-ewma'],
    ]);
    const tail = planScenario(scenarios['tail-at-scale']);
    // p99.9 1,800 ms (no hedge) above 74 ms (hedged); the hedge rate has no partner.
    assert.deepEqual(publishedOrders(compareRuns(tail, new Map())).map((o) => [o.lower.variant, o.higher.variant, o.lower.metric]), [
      ['hedge-10ms', 'no-hedge', 'p999'],
    ]);
    // Attempts per call at three different clients: no pair.
    assert.deepEqual(publishedOrders(compareRuns(planScenario(scenarios['retry-storm']), new Map())), []);
  });
});
