import type { Scenario, ScenarioLatency } from '../scenario-types.js';
import { LINKERD_2017 } from './sources.js';

/** Healthy service time: our assumption, as in linkerd-2016 (the post's figures are success rates). */
const HEALTHY: ScenarioLatency = { lognormal: { median: '5ms', p99: '25ms' } };

/**
 * Linkerd, circuit breaking (2017): 5 backends, one succeeds on 60 % of
 * requests, no retries. Published success rates: no failure accrual ~95 %,
 * 5 consecutive failures ~97 %, success-rate accrual ~99 %. The failing
 * backend answers 500 (a plain server error; our assumption: the figures do
 * not say which status). The load, 1,000 req/s for 60 s, is ours too.
 * The published rows run meshkit's round robin, so that only the ejection
 * rule differs from row to row (meshkit's default balancer, peak EWMA,
 * penalises failures by itself: it has its own rows). Variants: round robin
 * without outlier detection, with only the consecutive rule at 5, with only
 * the success-rate rule; then peak EWMA alone, and peak EWMA with
 * `outlierDetection({})` (Envoy's defaults: the gateway and success-rate
 * rules). The consecutive row uses `consecutive5xx`, not the default
 * `consecutiveGatewayFailures`: Linkerd's consecutive failure accrual counts
 * every failed response, 500s included, as Envoy's `consecutive_5xx` does,
 * while the gateway rule counts only 502/503/504 and failures with no
 * response, so it would never see this backend's 500s.
 */
export const linkerd2017: Scenario = {
  name: 'linkerd-2017',
  description: 'Linkerd circuit breaking (2017): 5 backends, one at 60 % success, no retries',
  seed: 1,
  duration: '60s',
  bucketMs: 1000,
  services: [{
    name: 'backend',
    instances: 5,
    behaviour: { latency: HEALTHY },
    timeline: [{ at: 0, backends: [0], set: { errorRate: 0.4, errorStatus: 500 } }],
  }],
  clients: [{
    name: 'edge',
    service: 'backend',
    stack: { balancer: 'roundRobin', timeout: { total: '1s' }, retry: false },
    load: { type: 'open', rate: 1000 },
  }],
  variants: [
    { name: 'none', description: 'round robin, no outlier detection', stack: { outlierDetection: false } },
    {
      name: 'consecutive-5',
      description: 'round robin, outlierDetection({ consecutive5xx: 5, consecutiveGatewayFailures: 0, successRate: false }): '
        + "every failed response counts, 500s included, as in Linkerd's consecutive failure accrual",
      stack: { outlierDetection: { consecutive5xx: 5, consecutiveGatewayFailures: 0, successRate: false } },
    },
    {
      name: 'success-rate',
      description: 'round robin, outlierDetection({ consecutiveGatewayFailures: 0, successRate: {} })',
      stack: { outlierDetection: { consecutiveGatewayFailures: 0, successRate: {} } },
    },
    { name: 'peak-ewma', description: 'peakEwma() (the default balancer), no outlier detection', stack: { balancer: 'peakEwma', outlierDetection: false } },
    {
      name: 'peak-ewma-defaults',
      description: 'peakEwma() and outlierDetection({}): the defaults (the gateway and success-rate rules; consecutive5xx off)',
      stack: { balancer: 'peakEwma', outlierDetection: {} },
    },
  ],
  published: [
    { label: 'no failure accrual: success rate', value: 0.95, source: LINKERD_2017, variant: 'none', metric: 'successRate' },
    { label: '5 consecutive failures: success rate', value: 0.97, source: LINKERD_2017, variant: 'consecutive-5', metric: 'successRate' },
    { label: 'success-rate accrual: success rate', value: 0.99, source: LINKERD_2017, variant: 'success-rate', metric: 'successRate' },
  ],
  measures: [{ metric: 'successRate' }, { metric: 'p99' }],
};
