import type { Scenario, ScenarioLatency } from '../scenario-types.js';
import { LINKERD_2016 } from './sources.js';

/**
 * Healthy backends' service time. Our assumption, not a published figure:
 * the experiment's point is the one backend at 2 s, far above it.
 */
const HEALTHY: ScenarioLatency = { lognormal: { median: '5ms', p99: '25ms' } };

/**
 * Linkerd, "Beyond Round Robin" (2016): 11 backends, 1,000 requests per
 * second, one backend answers in 2 s for 30 s of the 60 s run (15 s to 45 s
 * here), a 1 s timeout and no retries. Published success rates: round robin
 * ~95 %, least loaded ~99 %, peak EWMA ~99.9 %. Variants: meshkit's round
 * robin, least request (P2C) and peak EWMA under the same setup, and the
 * stack meshkit recommends (peak EWMA, a per-try timeout inside the same 1 s,
 * budgeted retries, outlier detection).
 */
export const linkerd2016: Scenario = {
  name: 'linkerd-2016',
  description: 'Linkerd "Beyond Round Robin" (2016): 11 backends, 1,000 req/s, one backend at 2 s for 30 s of 60 s, 1 s timeout, no retries',
  seed: 1,
  duration: '60s',
  bucketMs: 1000,
  services: [{
    name: 'backend',
    instances: 11,
    behaviour: { latency: HEALTHY },
    timeline: [
      { at: '15s', backends: [0], set: { latency: '2s' } },
      { at: '45s', backends: [0], set: { latency: HEALTHY } },
    ],
  }],
  clients: [{
    name: 'edge',
    service: 'backend',
    stack: { timeout: { total: '1s' }, retry: false },
    load: { type: 'open', rate: 1000 },
  }],
  variants: [
    { name: 'round-robin', description: 'meshkit roundRobin()', stack: { balancer: 'roundRobin' } },
    { name: 'least-request', description: 'meshkit leastRequest() (P2C over requests in flight)', stack: { balancer: 'leastRequest' } },
    { name: 'peak-ewma', description: 'meshkit peakEwma() (the default balancer)', stack: { balancer: 'peakEwma' } },
    {
      name: 'recommended',
      description: 'peak EWMA, 300 ms per try within the 1 s, budgeted retries, outlier detection',
      stack: { balancer: 'peakEwma', timeout: { perTry: '300ms', total: '1s' }, retry: {}, outlierDetection: {} },
    },
  ],
  published: [
    { label: 'round robin: success rate', value: 0.95, source: LINKERD_2016, variant: 'round-robin', metric: 'successRate' },
    { label: 'least loaded: success rate', value: 0.99, source: LINKERD_2016, variant: 'least-request', metric: 'successRate' },
    { label: 'peak EWMA: success rate', value: 0.999, source: LINKERD_2016, variant: 'peak-ewma', metric: 'successRate' },
  ],
  measures: [{ metric: 'successRate' }, { metric: 'p99' }, { metric: 'attemptsPerCall' }],
};
