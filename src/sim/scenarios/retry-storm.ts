import type { Scenario } from '../scenario-types.js';
import { FINAGLE_RETRY_BUDGET, RETRY_ARITHMETIC } from './sources.js';

/**
 * A retry storm: the edge calls `front`, whose instances call `mid`, whose
 * instances call `db`; `db` fails every request (503). With 4 attempts per
 * tier and nothing else, each user request becomes 4 x 4 x 4 = 64 requests
 * at `db`. meshkit's retry budget (20 % of calls plus 10 per second, per
 * client: each instance of a tier has its own) should hold each tier near
 * 1.2 attempts per call, and a total deadline set at the edge travels down
 * (`x-meshkit-deadline`) so no tier keeps trying for a caller that gave up.
 * Sizes (3 instances per tier, 300 user requests per second for 15 s) are
 * ours; the run goes on 5 s more so every user request finishes inside it
 * and the ratios count whole requests.
 */
export const retryStorm: Scenario = {
  name: 'retry-storm',
  description: 'Retry storm: 3 tiers each making up to 4 attempts, the bottom tier failing',
  seed: 1,
  duration: '20s',
  bucketMs: 1000,
  services: [
    { name: 'front', instances: 3, behaviour: { latency: 1 }, handler: { call: 'front-to-mid' } },
    { name: 'mid', instances: 3, behaviour: { latency: 1 }, handler: { call: 'mid-to-db' } },
    { name: 'db', instances: 3, behaviour: { latency: 1, errorRate: 1, errorStatus: 503 } },
  ],
  clients: [
    { name: 'edge', service: 'front', load: { type: 'open', rate: 300, duration: '15s' } },
    { name: 'front-to-mid', service: 'mid' },
    { name: 'mid-to-db', service: 'db' },
  ],
  variants: [
    { name: 'naive', description: '4 attempts per tier, no budget, no deadline', stack: { retry: { attempts: 4, budget: false } } },
    {
      name: 'naive-deadline',
      description: '4 attempts per tier, no budget, a 1 s deadline set at the edge',
      stack: { retry: { attempts: 4, budget: false } },
      clients: { edge: { retry: { attempts: 4, budget: false }, timeout: { total: '1s' } } },
    },
    { name: 'budgeted', description: '4 attempts per tier within the default budget', stack: { retry: { attempts: 4 } } },
    {
      name: 'budgeted-deadline',
      description: 'the default budget and a 1 s deadline set at the edge',
      stack: { retry: { attempts: 4 } },
      clients: { edge: { retry: { attempts: 4 }, timeout: { total: '1s' } } },
    },
  ],
  published: [
    { label: 'no budget: requests at db per user request', value: 64, source: RETRY_ARITHMETIC, variant: 'naive', metric: 'amplification', service: 'db' },
    { label: 'budget: attempts per call, edge', value: 1.2, source: FINAGLE_RETRY_BUDGET, variant: 'budgeted', metric: 'attemptsPerCall', client: 'edge' },
    { label: 'budget: attempts per call, front -> mid', value: 1.2, source: FINAGLE_RETRY_BUDGET, variant: 'budgeted', metric: 'attemptsPerCall', client: 'front-to-mid' },
    { label: 'budget: attempts per call, mid -> db', value: 1.2, source: FINAGLE_RETRY_BUDGET, variant: 'budgeted', metric: 'attemptsPerCall', client: 'mid-to-db' },
  ],
  measures: [
    { metric: 'amplification', service: 'db' },
    { metric: 'attemptsPerCall', client: 'edge' },
    { metric: 'attemptsPerCall', client: 'front-to-mid' },
    { metric: 'attemptsPerCall', client: 'mid-to-db' },
    { metric: 'p99' },
  ],
};
