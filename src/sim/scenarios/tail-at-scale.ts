import type { Scenario, ScenarioLatency } from '../scenario-types.js';
import { TAIL_AT_SCALE } from './sources.js';

/**
 * One read's service time, chosen so that the published figures follow
 * (the derivation is in docs/simulator.md):
 * - 98 %: lognormal, median 2 ms, p99 6 ms (an ordinary fast read);
 * - 1.9 %: uniform 10-64 ms (a busy server, a short pause);
 * - 0.1 %: lognormal, median 200 ms, p99 1,050 ms (the rare slow tail).
 * A user request waits for the slowest of 1,000 reads, so its p99.9 is a
 * read's 1 - 10^-6 quantile: about 1,810 ms. A hedge after 10 ms goes out for
 * the 2.03 % of reads slower than 10 ms, and a read then takes
 * min(X1, 10 ms + X2): the user request's p99.9 falls to about 74 ms.
 */
export const TAIL_AT_SCALE_READ: ScenarioLatency = {
  mixture: [
    { weight: 0.98, latency: { lognormal: { median: 2, p99: 6 } } },
    { weight: 0.019, latency: { uniform: { min: 10, max: 64 } } },
    { weight: 0.001, latency: { lognormal: { median: 200, p99: 1050 } } },
  ],
};

/**
 * Dean and Barroso, "The Tail at Scale" (2013): a request reads 1,000 keys
 * spread over 100 servers; hedging after 10 ms cut the 99.9th percentile for
 * all 1,000 values from 1,800 ms to 74 ms while sending 2 % more requests.
 * Variants: no hedging, meshkit's `hedge({ after: '10ms' })`, and its
 * default `hedge({})` (after the p95 of recent latency, within a 5 % budget).
 * 10 user requests per second for 200 s: 2,000 user requests, 2 million reads.
 */
export const tailAtScale: Scenario = {
  name: 'tail-at-scale',
  description: 'The Tail at Scale (2013): 1,000 reads over 100 servers per request; hedging after 10 ms',
  seed: 1,
  duration: '200s',
  bucketMs: 1000,
  services: [{ name: 'tablets', instances: 100, behaviour: { latency: TAIL_AT_SCALE_READ } }],
  clients: [{
    name: 'reader',
    service: 'tablets',
    stack: { retry: false },
    load: { type: 'open', rate: 10, fanout: 1000 },
  }],
  variants: [
    { name: 'no-hedge', description: 'no hedging', stack: { hedge: false } },
    { name: 'hedge-10ms', description: "hedge({ after: '10ms' })", stack: { hedge: { after: '10ms' } } },
    { name: 'hedge-default', description: 'hedge({}): after the p95, 5 % budget', stack: { hedge: {} } },
  ],
  published: [
    { label: 'no hedging: p99.9 of 1,000 reads (ms)', value: 1800, source: TAIL_AT_SCALE, variant: 'no-hedge', metric: 'p999' },
    { label: 'hedged after 10 ms: p99.9 of 1,000 reads (ms)', value: 74, source: TAIL_AT_SCALE, variant: 'hedge-10ms', metric: 'p999' },
    { label: 'hedged after 10 ms: extra requests', value: 0.02, source: TAIL_AT_SCALE, variant: 'hedge-10ms', metric: 'hedgesPerCall' },
  ],
  measures: [{ metric: 'p50' }, { metric: 'p99' }, { metric: 'p999' }, { metric: 'hedgesPerCall' }],
};
