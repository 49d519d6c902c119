import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { client, isMeshkitError, Outcomes, toEndpoint, type Endpoint } from '../../src/index.js';
import { circuitBreaker } from '../../src/policies/circuit-breaker.js';
import { EndpointHealthFilter } from '../../src/health/endpoint-health-filter.js';
import { resolveOutlierDetection } from '../../src/health/outlier-options.js';
import { HEALTH_CHECK_ONLY_DETECTION } from '../../src/health/active-health-check-options.js';
import { resolveEndpointCircuitBreakers } from '../../src/health/endpoint-breaker-options.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';

async function settle(promise: Promise<unknown>): Promise<unknown> {
  try {
    return await promise;
  } catch (error) {
    return error;
  }
}

describe('breakers follow the injected clock', () => {
  it('the service breaker turns half-open after resetTimeout on a VirtualClock, with no real time passing', async () => {
    const clock = new VirtualClock();
    const breaker = circuitBreaker({ volumeThreshold: 1, errorThreshold: 0, resetTimeout: '1h', clock });
    const c = client('clocked').endpoints(['127.0.0.1:9']).retry(false).policy(breaker).build();
    try {
      await settle(c.call(() => Promise.reject(new Error('down'))));
      assert.equal(breaker.state, 'open');
      assert.equal(breaker.stats().retryAfterMs, 3_600_000, 'measured on the virtual clock');
      const refused = await settle(c.call(() => Promise.resolve('no')));
      assert.ok(isMeshkitError(refused, 'ERR_CIRCUIT_OPEN'));
      assert.equal(refused.details['retryAfterMs'], 3_600_000);
      const started = performance.now();
      await clock.advance(3_600_000 - 1);
      assert.equal(breaker.state, 'open');
      assert.equal(breaker.stats().retryAfterMs, 1);
      await clock.advance(1);
      assert.equal(breaker.state, 'half-open', 'an hour passed on the clock');
      assert.ok(performance.now() - started < 30_000, 'and not in real time');
      assert.equal(await c.call(() => Promise.resolve('trial')), 'trial');
      assert.equal(breaker.state, 'closed');
      const since = Date.parse(breaker.snapshot().since);
      assert.equal(Date.parse(breaker.snapshot().since), since, 'repeated reads agree');
      // Wall-clock time on the breaker's clock: closed at virtual 1 h, 2026-01-01T01:00:00Z on the VirtualClock's wall clock.
      assert.equal(breaker.snapshot().since, '2026-01-01T01:00:00.000Z');
      assert.equal(since, clock.wallNow());
    } finally {
      await c.close();
    }
    assert.equal(clock.pendingTimers, 0, 'close() released the rotation');
  });

  it("the builder's .circuitBreaker() runs on the client's clock", async () => {
    const clock = new VirtualClock();
    const c = client('clocked-builder').endpoints(['127.0.0.1:9']).clock(clock).retry(false)
      .circuitBreaker({ volumeThreshold: 1, errorThreshold: 0, resetTimeout: '5s' }).build();
    try {
      await settle(c.call(() => Promise.reject(new Error('down'))));
      const refused = await settle(c.call(() => Promise.resolve('no')));
      assert.ok(isMeshkitError(refused, 'ERR_CIRCUIT_OPEN'));
      assert.equal(refused.details['retryAfterMs'], 5_000, 'measured on the client clock');
      await clock.advance(5_000);
      assert.equal(await c.call(() => Promise.resolve('trial')), 'trial', 'half-open after 5 s of virtual time');
      assert.equal(await c.call(() => Promise.resolve('again')), 'again', 'closed by the trial');
    } finally {
      await c.close();
    }
  });

  it('the endpoint breakers turn half-open after resetTimeout on the client clock, with no real time passing', async () => {
    const clock = new VirtualClock();
    const settings = resolveEndpointCircuitBreakers({ volumeThreshold: 1, errorThreshold: 0, resetTimeout: '1h' });
    const d = new EndpointHealthFilter(resolveOutlierDetection({ ...HEALTH_CHECK_ONLY_DETECTION, panicThreshold: 0 }), clock, () => undefined, 'fleet', settings);
    const [a, b] = [toEndpoint('127.0.0.1:3001', 'e'), toEndpoint('127.0.0.1:3002', 'e')] as [Endpoint, Endpoint];
    try {
      d.setEndpoints([a, b]);
      d.observe(a, Outcomes.connect);
      assert.equal(d.endpointBreakers?.state(a.id), 'open');
      assert.equal(d.endpointBreakers?.retryAfterMs(a.id), 3_600_000);
      await clock.advance(3_600_000 - 1);
      assert.equal(d.endpointBreakers?.state(a.id), 'open');
      assert.equal(d.endpointBreakers?.stats(a.id)?.retryAfterMs, 1);
      await clock.advance(1);
      assert.equal(d.endpointBreakers?.state(a.id), 'half-open');
      assert.deepEqual(d.available.map((e) => e.id), [a.id, b.id], 'back in rotation for the trial');
      d.observe(a, Outcomes.success);
      assert.equal(d.endpointBreakers?.state(a.id), 'closed');
    } finally {
      d.close();
    }
  });
});

describe('client snapshots follow the injected clock', () => {
  it('takenAt is the client clock\'s wall time', async () => {
    const clock = new VirtualClock(0, 1, Date.parse('2030-06-01T00:00:00Z'));
    await using c = client('clocked-snapshot').endpoints(['127.0.0.1:9']).clock(clock).build();
    await clock.advance(1_500);
    assert.equal(c.snapshot().takenAt, '2030-06-01T00:00:01.500Z');
  });
});
