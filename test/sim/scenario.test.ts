import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isMeshkitError } from '../../src/core/errors.js';
import { validateScenario, type Scenario } from '../../src/sim/scenario.js';

/** A small valid scenario each test changes one thing of. */
function base(): Record<string, unknown> {
  return {
    name: 'small',
    description: 'two backends, one client',
    duration: '10s',
    services: [{ name: 'orders', instances: 2, zones: ['a', 'b'], behaviour: { latency: { lognormal: { median: 5, p99: 50 } } } }],
    clients: [{ name: 'edge', service: 'orders', stack: { timeout: { total: '1s' } }, load: { type: 'open', rate: 100 } }],
  };
}

/** Deep-sets `path` (dots and [index]) in a copy of the base scenario. */
function withValue(path: string, value: unknown): Record<string, unknown> {
  const scenario = base();
  const keys = path.replace(/\[(\d+)\]/g, '.$1').split('.');
  let target = scenario as Record<string, unknown>;
  for (const key of keys.slice(0, -1)) {
    target[key] ??= {};
    target = target[key] as Record<string, unknown>;
  }
  target[keys[keys.length - 1] as string] = value;
  return scenario;
}

/** Asserts `value` is refused with ERR_INVALID_CONFIG naming `option` (and, if given, suggesting `hint`). */
function refuses(value: unknown, option: string, hint?: string): void {
  assert.throws(() => validateScenario(value), (error: unknown) => {
    assert.ok(isMeshkitError(error, 'ERR_INVALID_CONFIG'), `expected ERR_INVALID_CONFIG, got ${String(error)}`);
    assert.equal(error.details['option'], option, error.message);
    if (hint !== undefined) assert.match(error.message, new RegExp(`did you mean \`${hint}\``));
    return true;
  });
}

describe('validateScenario', () => {
  it('accepts a valid scenario and returns a copy', () => {
    const given = base();
    const scenario: Scenario = validateScenario(given);
    assert.deepEqual(scenario, given);
    assert.notEqual(scenario, given);
    assert.notEqual(scenario.services[0], (given['services'] as unknown[])[0]);
  });

  it('names an unknown key at every level with the nearest known one', () => {
    refuses({ ...base(), sevices: [] }, 'scenario.sevices', 'services');
    refuses(withValue('services[0].instance', 2), 'services[0].instance', 'instances');
    refuses(withValue('services[0].behaviour.errorrate', 0.1), 'services[0].behaviour.errorrate', 'errorRate');
    refuses(withValue('services[0].behaviour.latency.lognormal.p95', 3), 'services[0].behaviour.latency.lognormal.p95', 'p99');
    refuses(withValue('clients[0].load.rat', 3), 'clients[0].load.rat', 'rate');
    refuses(withValue('clients[0].stak', {}), 'clients[0].stak', 'stack');
  });

  it("checks a client's stack with the builder method it configures, under the stack's path", () => {
    refuses(withValue('clients[0].stack.timeout', { pertry: '1s' }), 'clients[0].stack.timeout.pertry', 'perTry');
    refuses(withValue('clients[0].stack.retry', { attempts: 0 }), 'clients[0].stack.retry.attempts');
    refuses(withValue('clients[0].stack.hedge', { after: 'soon' }), 'clients[0].stack.hedge.after');
    refuses(withValue('clients[0].stack.outlierDetection', { maxEjectionPercent: 500 }), 'clients[0].stack.outlierDetection.maxEjectionPercent');
    refuses(withValue('clients[0].stack.balancer', 'leastLoaded'), 'clients[0].stack.balancer');
    refuses(withValue('clients[0].stack.balancer', { peakEwma: { decai: '5s' } }), 'clients[0].stack.balancer.peakEwma.decai', 'decay');
    refuses(withValue('clients[0].stack.policies', [{ bulkhead: { maxConcurrent: 0 } }]), 'clients[0].stack.policies[0].bulkhead.maxConcurrent');
    refuses(withValue('clients[0].stack.policies', [{ bulkhed: {} }]), 'clients[0].stack.policies[0].bulkhed', 'bulkhead');
    refuses(withValue('clients[0].stack.circuitBreaker', { clock: {} }), 'clients[0].stack.circuitBreaker.clock');
    refuses(withValue('clients[0].stack.balancer', { zoneAware: {} }), 'clients[0].stack.balancer.zoneAware');
  });

  it('accepts every stack key with real options', () => {
    const scenario = withValue('clients[0].stack', {
      balancer: { zoneAware: { inner: { peakEwma: { decay: '5s' } }, minHealthyPercent: 50 } },
      timeout: { perTry: '200ms', total: '1s' },
      retry: { attempts: 3, budget: { ratio: 0.1 } },
      hedge: { after: 'p90', max: 1 },
      outlierDetection: { consecutiveGatewayFailures: 3 },
      endpointCircuitBreakers: { errorThreshold: 0.5 },
      circuitBreaker: { volumeThreshold: 10 },
      policies: [{ adaptiveConcurrency: { algorithm: { vegas: {} } } }, { bulkhead: { maxConcurrent: 10 } }, { rateLimit: { rate: 100 } }, { adaptiveThrottle: {} }],
    });
    (scenario['clients'] as Record<string, unknown>[])[0]!['zone'] = 'a';
    assert.doesNotThrow(() => validateScenario(scenario));
  });

  it('refuses bad values and names their path', () => {
    refuses(withValue('name', 'Has Spaces'), 'name');
    refuses(withValue('duration', 0), 'duration');
    refuses(withValue('duration', '-1s'), 'duration');
    refuses(withValue('seed', 1.5), 'seed');
    refuses(withValue('services[0].instances', 0), 'services[0].instances');
    refuses(withValue('services[0].behaviour.errorRate', 1.5), 'services[0].behaviour.errorRate');
    refuses(withValue('services[0].behaviour.latency', { lognormal: { median: 10, p99: 5 } }), 'services[0].behaviour.latency.lognormal.p99');
    // The engine's validator (latencySampler) checks a scenario's latencies: what it refuses at run time is refused here, under the path.
    refuses(withValue('services[0].behaviour.latency', { lognormal: { median: 10, p99: 10 } }), 'services[0].behaviour.latency.lognormal.p99');
    refuses(withValue('services[0].behaviour.latency', { mixture: [{ weight: -1, latency: 1 }] }), 'services[0].behaviour.latency.mixture[0].weight');
    refuses(withValue('services[0].behaviour.latency', { mixture: [{ weight: 0, latency: 1 }] }), 'services[0].behaviour.latency.mixture');
    refuses(withValue('services[0].behaviour.latency', { mixture: Array.from({ length: 65 }, () => ({ weight: 1, latency: 1 })) }), 'services[0].behaviour.latency.mixture');
    refuses(withValue('services[0].timeline', [{ at: '1s', set: { latency: { empirical: [1, 'soon'] } } }]), 'services[0].timeline[0].set.latency.empirical[1]');
    assert.doesNotThrow(() => validateScenario(withValue('services[0].behaviour.latency', { empirical: [1, '20ms'] })));
    refuses(withValue('services[0].behaviour.latency', { uniform: { min: 5, max: 1 } }), 'services[0].behaviour.latency.uniform.max');
    refuses(withValue('services[0].behaviour.latency', { exponential: { mena: 5 } }), 'services[0].behaviour.latency.exponential.mena', 'mean');
    assert.doesNotThrow(() => validateScenario(withValue('services[0].behaviour.latency', { exponential: { mean: '20ms' } })));
    refuses(withValue('services[0].timeline', [{ at: '20s', set: { errorRate: 1 } }]), 'services[0].timeline[0].at');
    refuses(withValue('services[0].timeline', [{ at: '1s', backends: [2], down: true }]), 'services[0].timeline[0].backends[0]');
    refuses(withValue('services[0].timeline', [{ at: '1s', backends: { zone: 'c' }, down: true }]), 'services[0].timeline[0].backends.zone');
    refuses(withValue('services[0].timeline', [{ at: '2s', down: true }, { at: '1s', up: true }]), 'services[0].timeline[1].at');
    refuses(withValue('services[0].timeline', [{ at: '1s' }]), 'services[0].timeline[0]');
    refuses(withValue('clients[0].load', { type: 'poisson', rate: 1 }), 'clients[0].load.type');
    refuses(withValue('clients[0].load', { type: 'open', rate: 0 }), 'clients[0].load.rate');
    refuses(withValue('clients[0].load', { type: 'closed', rate: 5 }), 'clients[0].load.rate');
    refuses(withValue('clients[0].load.path', 'no-slash'), 'clients[0].load.path');
    refuses(withValue('clients[0].service', 'payments'), 'clients[0].service');
  });

  it("refuses a load window outside the scenario's duration (it would send nothing, or be cut without a word)", () => {
    // The base scenario lasts 10 s.
    refuses(withValue('clients[0].load', { type: 'open', rate: 1, start: '10s' }), 'clients[0].load.start');
    refuses(withValue('clients[0].load', { type: 'open', rate: 1, start: '90s' }), 'clients[0].load.start');
    refuses(withValue('clients[0].load', { type: 'open', rate: 1, start: '5s', duration: '6s' }), 'clients[0].load.duration');
    refuses(withValue('clients[0].load', { type: 'closed', callers: 2, duration: '11s' }), 'clients[0].load.duration');
    refuses(withValue('clients[0].load', { type: 'open', rate: 1, duration: 0 }), 'clients[0].load.duration');
    assert.doesNotThrow(() => validateScenario(withValue('clients[0].load', { type: 'open', rate: 1, start: '5s', duration: '5s' })));
    assert.doesNotThrow(() => validateScenario(withValue('clients[0].load', { type: 'open', rate: 1, start: '9s' })));
  });

  it('checks names are unique and references resolve', () => {
    const twice = base();
    twice['services'] = [...(twice['services'] as unknown[]), { name: 'orders', instances: 1 }];
    refuses(twice, 'services[1].name');
    const unloaded = withValue('clients[0].load', undefined);
    delete (unloaded['clients'] as Record<string, unknown>[])[0]!['load'];
    refuses(unloaded, 'clients[0].load');
    refuses(withValue('services[0].handler', { call: 'nobody' }), 'services[0].handler.call');
    refuses(withValue('published', [{ label: 'x', value: 1, source: 's', variant: 'other', metric: 'p99' }]), 'published[0].variant');
    refuses(withValue('published', [{ label: 'x', value: 1, source: 's', variant: 'default', metric: 'p98' }]), 'published[0].metric');
    refuses(withValue('measures', [{ metric: 'p99', client: 'nobody' }]), 'measures[0].client');
  });

  it('checks tiers: a handler calls a client that has no load of its own', () => {
    const tiers = {
      ...base(),
      services: [
        { name: 'front', instances: 2, handler: { call: 'front-to-db' } },
        { name: 'db', instances: 2 },
      ],
      clients: [
        { name: 'edge', service: 'front', load: { type: 'closed', callers: 4 } },
        { name: 'front-to-db', service: 'db', stack: { retry: { attempts: 3 } } },
      ],
    };
    assert.doesNotThrow(() => validateScenario(tiers));
    const loaded = structuredClone(tiers);
    (loaded.clients[1] as Record<string, unknown>)['load'] = { type: 'open', rate: 1 };
    refuses(loaded, 'clients[1].load');
    const replicated = structuredClone(tiers);
    (replicated.clients[1] as Record<string, unknown>)['replicas'] = 3;
    refuses(replicated, 'clients[1].replicas');
  });

  it("checks variants' stacks per client and only names known clients", () => {
    const variants = (list: unknown): Record<string, unknown> => ({ ...base(), variants: list });
    assert.doesNotThrow(() => validateScenario(variants([{ name: 'rr', stack: { balancer: 'roundRobin' } }, { name: 'ewma', clients: { edge: { balancer: 'peakEwma' } } }])));
    refuses(variants([{ name: 'rr', stack: { balancer: 'roundRobin' } }, { name: 'rr' }]), 'variants[1].name');
    refuses(variants([{ name: 'rr', stack: { retry: { attempts: -1 } } }]), 'variants[0].stack.retry.attempts');
    refuses(variants([{ name: 'rr', clients: { egde: {} } }]), 'variants[0].clients.egde', 'edge');
    refuses(variants([{ name: 'rr', clients: { edge: { hedge: { max: 0 } } } }]), 'variants[0].clients.edge.hedge.max');
    refuses(variants([]), 'variants');
  });
});
