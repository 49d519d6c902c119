import type { Scenario, ScenarioLatency } from '../scenario-types.js';

/** Service times: healthy, and in the degraded zone. Our assumptions (no publication measured this). */
const HEALTHY: ScenarioLatency = { lognormal: { median: '20ms', p99: '100ms' } };
const DEGRADED: ScenarioLatency = { lognormal: { median: '200ms', p99: '1s' } };

/**
 * Fleet scale: 1,000 backends in 3 zones, 100 client instances sending 20
 * user requests per second each (2,000 req/s) for 10 simulated minutes, 1.2
 * million calls. A rolling restart from 1 min: every 480 ms the next instance
 * leaves discovery, stops 5 s later, and is back (up and in discovery) 20 s
 * after that. Zone `zone-c` is degraded (slow, 5 % errors) from 3 to 6 min.
 * Every variant runs meshkit's default stack (timeouts, budgeted retries,
 * outlier detection) with another balancer; the table shows success rate,
 * p99 and how long a restarted instance takes to get its share of traffic back.
 */
export const fleetScale: Scenario = {
  name: 'fleet-scale',
  description: 'Fleet scale: 1,000 backends, 100 clients, a rolling restart and one degraded zone',
  seed: 1,
  duration: '10m',
  bucketMs: 1000,
  services: [{
    name: 'api',
    instances: 1000,
    zones: ['zone-a', 'zone-b', 'zone-c'],
    behaviour: { latency: HEALTHY },
    timeline: [
      { at: '3m', backends: { zone: 'zone-c' }, set: { latency: DEGRADED, errorRate: 0.05 } },
      { at: '6m', backends: { zone: 'zone-c' }, set: { latency: HEALTHY, errorRate: 0 } },
    ],
    rollingRestart: { start: '1m', interval: '480ms', drain: '5s', downtime: '20s' },
  }],
  clients: [{
    name: 'callers',
    service: 'api',
    zones: ['zone-a', 'zone-b', 'zone-c'],
    replicas: 100,
    stack: { timeout: { perTry: '300ms', total: '1s' }, retry: {}, outlierDetection: {} },
    load: { type: 'open', rate: 20 },
  }],
  variants: [
    { name: 'peak-ewma', description: 'peakEwma() (the default)', stack: { balancer: 'peakEwma' } },
    { name: 'least-request', description: 'leastRequest()', stack: { balancer: 'leastRequest' } },
    { name: 'round-robin', description: 'roundRobin()', stack: { balancer: 'roundRobin' } },
    { name: 'zone-aware', description: 'zoneAware({ zone, inner: peakEwma() })', stack: { balancer: { zoneAware: { inner: 'peakEwma' } } } },
  ],
  measures: [{ metric: 'successRate' }, { metric: 'p99' }, { metric: 'recoveryMs' }],
  scaling: { instances: true, replicas: true },
};
