import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { client, isMeshkitError, Outcomes, subscribe, toEndpoint, type Endpoint, type Outcome } from '../../src/index.js';
import { DEFAULT_CIRCUIT_BREAKER, breakerRotations } from '../../src/policies/circuit-breaker.js';
import { EndpointHealthFilter } from '../../src/health/endpoint-health-filter.js';
import { resolveOutlierDetection, type OutlierDetectionOptions } from '../../src/health/outlier-options.js';
import { HEALTH_CHECK_ONLY_DETECTION } from '../../src/health/active-health-check-options.js';
import {
  resolveEndpointCircuitBreakers, type EndpointCircuitBreakerOptions,
} from '../../src/health/endpoint-breaker-options.js';
import { HttpStatusClassifier } from '../../src/transports/http-classifier.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import type { EjectionMessage } from '../../src/core/diagnostics.js';

const statuses = new HttpStatusClassifier();
const ok: Outcome = Outcomes.success;
const unavailable: Outcome = statuses.classify(503);

function fleet(count: number): Endpoint[] {
  return Array.from({ length: count }, (_, i) => toEndpoint(`127.0.0.1:${3000 + i}`, 'e'));
}

const ids = (endpoints: readonly Endpoint[]): string[] => endpoints.map((e) => e.id);

/** State changes are synchronous; this lets listeners and timers queued meanwhile run too. */
async function settle(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
}

/** A detector with no passive rules (as a client with only endpoint breakers gets), unless `outlier` adds some. */
function detector(breakers: EndpointCircuitBreakerOptions, outlier: OutlierDetectionOptions = HEALTH_CHECK_ONLY_DETECTION, clock = new VirtualClock()) {
  let changes = 0;
  const d = new EndpointHealthFilter(resolveOutlierDetection(outlier), clock, () => changes++, 'orders', resolveEndpointCircuitBreakers(breakers));
  const health = (e: Endpoint) => d.snapshot().find((h) => h.id === e.id);
  return { d, clock, health, changes: () => changes };
}

const open: OutlierDetectionOptions = { ...HEALTH_CHECK_ONLY_DETECTION, panicThreshold: 0 };

describe('endpoint circuit breakers: options', () => {
  it('defaults to the service-level breaker defaults', () => {
    assert.deepEqual(resolveEndpointCircuitBreakers({}), {
      errorThreshold: DEFAULT_CIRCUIT_BREAKER.errorThreshold,
      volumeThreshold: DEFAULT_CIRCUIT_BREAKER.volumeThreshold,
      resetTimeoutMs: DEFAULT_CIRCUIT_BREAKER.resetTimeoutMs,
      windowMs: DEFAULT_CIRCUIT_BREAKER.windowMs,
      buckets: DEFAULT_CIRCUIT_BREAKER.buckets,
    });
    assert.deepEqual(resolveEndpointCircuitBreakers({ errorThreshold: 0.25, volumeThreshold: 3, resetTimeout: '1m', window: '30s', buckets: 30 }), {
      errorThreshold: 0.25, volumeThreshold: 3, resetTimeoutMs: 60_000, windowMs: 30_000, buckets: 30,
    });
  });

  const invalid: [unknown, string][] = [
    [null, 'endpointCircuitBreakers'],
    ['fast', 'endpointCircuitBreakers'],
    [{ errorThreshold: 50 }, 'endpointCircuitBreakers.errorThreshold'],
    [{ volumeThreshold: -1 }, 'endpointCircuitBreakers.volumeThreshold'],
    [{ resetTimeout: 0 }, 'endpointCircuitBreakers.resetTimeout'],
    [{ window: 'soon' }, 'endpointCircuitBreakers.window'],
    [{ window: 10, buckets: 20 }, 'endpointCircuitBreakers.buckets'],
    [{ name: 'x' }, 'endpointCircuitBreakers.name'],
    [{ clock: new VirtualClock() }, 'endpointCircuitBreakers.clock'],
    [{ errorThresold: 0.5 }, 'endpointCircuitBreakers.errorThresold'],
  ];
  for (const [options, option] of invalid) {
    it(`the builder refuses ${JSON.stringify(options)} naming ${option}`, () => {
      assert.throws(() => client('orders').endpointCircuitBreakers(options as EndpointCircuitBreakerOptions), (error: unknown) => {
        assert.ok(isMeshkitError(error, 'ERR_INVALID_CONFIG'));
        assert.equal(error.details['option'], option);
        return true;
      });
    });
  }

  it('false turns them off again', async () => {
    const builder = client('orders').endpoints(['127.0.0.1:1']).endpointCircuitBreakers({ volumeThreshold: 1 });
    const off = builder.endpointCircuitBreakers(false).build();
    const on = builder.build();
    try {
      assert.equal(off.config.endpointBreakers, undefined);
      assert.equal(on.config.endpointBreakers?.volumeThreshold, 1);
      assert.deepEqual(off.endpoints().health, []);
      assert.deepEqual(on.endpoints().health.map((h) => h.circuit), ['closed']);
    } finally {
      await Promise.all([off.close(), on.close()]);
    }
  });
});

describe('endpoint circuit breakers: transitions', () => {
  const messages: EjectionMessage[] = [];
  const unsubscribe = subscribe('ejection', (m) => messages.push(m));
  after(unsubscribe);

  it('stays closed below the volume threshold, opens above the error threshold, and takes the endpoint out', async () => {
    const { d, health, changes } = detector({ volumeThreshold: 4, errorThreshold: 0.5, resetTimeout: '1h' }, open);
    const [a, b, c] = fleet(3) as [Endpoint, Endpoint, Endpoint];
    d.setEndpoints([a, b, c]);
    messages.length = 0;
    try {
      assert.equal(d.endpointBreakers?.size, 0, 'created lazily');
      d.observe(a, ok);
      d.observe(a, unavailable);
      d.observe(a, unavailable);
      await settle();
      assert.equal(health(a)?.circuit, 'closed', '2 of 3 failed, but 3 attempts are under the volume of 4');
      d.observe(a, unavailable);
      await settle();
      assert.equal(health(a)?.circuit, 'open', '3 of 4 failed (75 % > 50 %)');
      assert.deepEqual(ids(d.available), [b.id, c.id]);
      assert.equal(changes(), 1);
      const h = health(a);
      assert.deepEqual([h?.ejected, h?.reason, h?.ejections], [true, 'circuit-open', 0]);
      assert.ok(h?.ejectedForMs !== undefined && h.ejectedForMs > 3_590_000 && h.ejectedForMs <= 3_600_000, `ejectedForMs ${h?.ejectedForMs}`);
      assert.equal(d.endpointBreakers?.size, 1, 'only the endpoint that was used has a breaker');
      const { retryAfterMs, ...stats } = d.endpointBreakers?.stats(a.id) ?? { retryAfterMs: -1 };
      assert.deepEqual(stats, { state: 'open', calls: 4, failures: 3, errorRate: 0.75, opened: 1 });
      assert.ok(retryAfterMs > 3_590_000 && retryAfterMs <= 3_600_000, `retryAfterMs ${retryAfterMs}`);
      assert.deepEqual(messages.map((m) => [m.service, m.endpoint.id, m.ejected, m.reason, m.ejectedForMs]), [['orders', a.id, true, 'circuit-open', 3_600_000]]);
    } finally {
      d.close();
    }
  });

  it('does not open at exactly the threshold (strictly greater, as opossum)', async () => {
    const { d, health } = detector({ volumeThreshold: 4, errorThreshold: 0.5, resetTimeout: '1h' }, open);
    const [a, b] = fleet(2) as [Endpoint, Endpoint];
    d.setEndpoints([a, b]);
    try {
      for (const outcome of [ok, unavailable, ok, unavailable]) d.observe(a, outcome);
      await settle();
      assert.equal(health(a)?.circuit, 'closed');
      d.observe(a, unavailable);
      await settle();
      assert.equal(health(a)?.circuit, 'open', '3 of 5');
    } finally {
      d.close();
    }
  });

  it('counts over the rolling window that the clock rotates', async () => {
    const { d, clock, health } = detector({ volumeThreshold: 4, errorThreshold: 0.5, window: '10s', buckets: 10, resetTimeout: '1h' }, open);
    const [a, b] = fleet(2) as [Endpoint, Endpoint];
    d.setEndpoints([a, b]);
    try {
      for (let i = 0; i < 3; i++) d.observe(a, unavailable);
      await clock.advance(10_000); // the three failures roll out
      d.observe(a, unavailable);
      await settle();
      assert.equal(health(a)?.circuit, 'closed');
      assert.equal(d.endpointBreakers?.stats(a.id)?.calls, 1);
      for (let i = 0; i < 3; i++) d.observe(a, unavailable);
      await settle();
      assert.equal(health(a)?.circuit, 'open');
    } finally {
      d.close();
    }
  });

  it('turns half-open after the reset timeout (back in rotation); a successful trial closes it with a fresh window', async () => {
    const { d, clock, health } = detector({ volumeThreshold: 2, errorThreshold: 0.5, resetTimeout: 40 }, open);
    const [a, b] = fleet(2) as [Endpoint, Endpoint];
    d.setEndpoints([a, b]);
    messages.length = 0;
    try {
      d.observe(a, unavailable);
      d.observe(a, unavailable);
      await settle();
      assert.deepEqual(ids(d.available), [b.id]);
      await clock.advance(39);
      assert.equal(health(a)?.circuit, 'open', 'open until resetTimeout has passed on the clock');
      await clock.advance(1);
      assert.equal(health(a)?.circuit, 'half-open', 'half-open after resetTimeout on the virtual clock');
      assert.deepEqual(ids(d.available), [a.id, b.id], 'back in rotation for the trial');
      assert.deepEqual([health(a)?.ejected, health(a)?.reason], [false, undefined]);
      d.observe(a, ok); // the trial
      assert.equal(health(a)?.circuit, 'closed', 'at once: the next pick already sees it');
      assert.equal(d.endpointBreakers?.stats(a.id)?.calls, 0, 'a fresh window after closing');
      d.observe(a, unavailable);
      assert.equal(health(a)?.circuit, 'closed', 'one failure after closing does not re-open it');
      assert.equal(d.endpointBreakers?.stats(a.id)?.failures, 1);
      assert.deepEqual(messages.map((m) => [m.ejected, m.reason]), [[true, 'circuit-open'], [false, 'circuit-open']]);
    } finally {
      d.close();
    }
  });

  it('a failed trial opens it again for another reset timeout', async () => {
    const { d, clock, health } = detector({ volumeThreshold: 1, errorThreshold: 0, resetTimeout: 40 }, open);
    const [a, b] = fleet(2) as [Endpoint, Endpoint];
    d.setEndpoints([a, b]);
    try {
      d.observe(a, Outcomes.connect);
      await settle();
      await clock.advance(39);
      assert.equal(health(a)?.circuit, 'open', 'open until resetTimeout has passed on the clock');
      await clock.advance(1);
      assert.equal(health(a)?.circuit, 'half-open', 'half-open after resetTimeout on the virtual clock');
      d.observe(a, Outcomes.timeout);
      await settle();
      assert.equal(health(a)?.circuit, 'open');
      assert.deepEqual(ids(d.available), [b.id]);
      assert.equal(d.endpointBreakers?.stats(a.id)?.opened, 2);
      await clock.advance(39);
      assert.equal(health(a)?.circuit, 'open', 'open until resetTimeout has passed on the clock');
      await clock.advance(1);
      assert.equal(health(a)?.circuit, 'half-open', 'half-open again after resetTimeout on the virtual clock');
      d.observe(a, ok);
      await settle();
      assert.equal(health(a)?.circuit, 'closed');
    } finally {
      d.close();
    }
  });

  it('ignores aborted attempts (hedge losers, callers giving up), also as a trial', async () => {
    const { d, clock, health } = detector({ volumeThreshold: 1, errorThreshold: 0, resetTimeout: 40 }, open);
    const [a, b] = fleet(2) as [Endpoint, Endpoint];
    d.setEndpoints([a, b]);
    try {
      for (let i = 0; i < 10; i++) d.observe(a, Outcomes.aborted);
      await settle();
      assert.equal(d.endpointBreakers?.size, 0);
      d.observe(a, unavailable);
      await settle();
      await clock.advance(39);
      assert.equal(health(a)?.circuit, 'open', 'open until resetTimeout has passed on the clock');
      await clock.advance(1);
      assert.equal(health(a)?.circuit, 'half-open', 'half-open after resetTimeout on the virtual clock');
      d.observe(a, Outcomes.aborted);
      assert.equal(health(a)?.circuit, 'half-open', 'still waiting for a real trial');
      d.observe(a, unavailable); // the trial fails...
      d.observe(a, ok); // ...and a later outcome cannot undo that
      assert.equal(health(a)?.circuit, 'open');
    } finally {
      d.close();
    }
  });

  it('is outside maxEjectionPercent, and the panic threshold still applies', async () => {
    const capped = detector({ volumeThreshold: 1, errorThreshold: 0, resetTimeout: '1h' }, { ...open, maxEjectionPercent: 10 });
    const four = fleet(4);
    capped.d.setEndpoints(four);
    try {
      capped.d.observe(four[0] as Endpoint, unavailable);
      capped.d.observe(four[1] as Endpoint, unavailable);
      await settle();
      assert.deepEqual(ids(capped.d.available), ids(four.slice(2)), 'two of four out although the cap is 10 %');
    } finally {
      capped.d.close();
    }
    const panicking = detector({ volumeThreshold: 1, errorThreshold: 0, resetTimeout: '1h' }, { ...HEALTH_CHECK_ONLY_DETECTION, panicThreshold: 50 });
    const three = fleet(3);
    panicking.d.setEndpoints(three);
    try {
      panicking.d.observe(three[0] as Endpoint, unavailable);
      await settle();
      assert.equal(panicking.d.available.length, 2, '2 of 3 healthy: above the 50 % panic threshold');
      panicking.d.observe(three[1] as Endpoint, unavailable);
      await settle();
      assert.deepEqual(ids(panicking.d.available), ids(three), '1 of 3 healthy: panic, every endpoint is used');
      assert.deepEqual(panicking.d.snapshot().map((h) => h.reason), ['circuit-open', 'circuit-open', undefined], 'health still says why');
    } finally {
      panicking.d.close();
    }
  });

  it('works beside the passive rules: an endpoint ejected by outlier detection still feeds its breaker', async () => {
    const { d, health } = detector({ volumeThreshold: 6, errorThreshold: 0.5, resetTimeout: '1h' }, { consecutiveGatewayFailures: 5, maxEjectionPercent: 50, panicThreshold: 0 });
    const [a, b] = fleet(2) as [Endpoint, Endpoint];
    d.setEndpoints([a, b]);
    try {
      for (let i = 0; i < 5; i++) d.observe(a, unavailable);
      await settle();
      assert.deepEqual([health(a)?.reason, health(a)?.circuit], ['consecutive-gateway-failures', 'closed']);
      d.observe(a, unavailable); // sent anyway (say, in flight): the 6th failure opens the breaker
      await settle();
      assert.deepEqual([health(a)?.reason, health(a)?.circuit], ['consecutive-gateway-failures', 'open'], 'the timed ejection is the reason shown first');
      assert.deepEqual(ids(d.available), [b.id]);
    } finally {
      d.close();
    }
  });

  it('drops the breaker of an endpoint that leaves the set; one that rejoins starts closed', async () => {
    const { d, health } = detector({ volumeThreshold: 1, errorThreshold: 0, resetTimeout: '1h' }, open);
    const [a, b] = fleet(2) as [Endpoint, Endpoint];
    const before = breakerRotations().reduce((sum, r) => sum + r.breakers, 0);
    d.setEndpoints([a, b]);
    try {
      d.observe(a, unavailable);
      d.observe(b, ok);
      await settle();
      assert.equal(d.endpointBreakers?.size, 2);
      assert.equal(breakerRotations().reduce((sum, r) => sum + r.breakers, 0), before + 2);
      d.setEndpoints([b]);
      assert.equal(d.endpointBreakers?.size, 1);
      assert.equal(breakerRotations().reduce((sum, r) => sum + r.breakers, 0), before + 1);
      d.observe(a, unavailable); // a late attempt to an endpoint that left: no breaker is made for it
      assert.equal(d.endpointBreakers?.size, 1);
      d.setEndpoints([a, b]);
      assert.deepEqual([health(a)?.circuit, health(a)?.ejected], ['closed', false]);
      assert.deepEqual(ids(d.available), [a.id, b.id]);
    } finally {
      d.close();
    }
    assert.equal(d.endpointBreakers?.size, 0, 'close() drops them all');
    assert.equal(breakerRotations().reduce((sum, r) => sum + r.breakers, 0), before);
  });

  it('an endpoint returning from an open breaker ramps up with slow start', async () => {
    const clock = new VirtualClock();
    const { d, health } = detector({ volumeThreshold: 1, errorThreshold: 0, resetTimeout: 40 }, { ...open, slowStart: { window: '10s' } }, clock);
    const [a, b] = fleet(2) as [Endpoint, Endpoint];
    d.setEndpoints([a, b]);
    try {
      d.observe(a, unavailable);
      await settle();
      await clock.advance(39);
      assert.equal(health(a)?.circuit, 'open', 'open until resetTimeout has passed on the clock');
      await clock.advance(1);
      assert.equal(health(a)?.circuit, 'half-open', 'half-open after resetTimeout on the virtual clock');
      assert.equal(health(a)?.slowStartFactor, 0.1, 'starts at the minimum weight');
      assert.equal(d.available.find((e) => e.id === a.id)?.weight, 0.1);
      await clock.advance(10_000);
      assert.equal(health(a)?.slowStartFactor, undefined, 'ramped up');
    } finally {
      d.close();
    }
  });
});
