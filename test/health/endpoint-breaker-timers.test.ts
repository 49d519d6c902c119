import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Outcomes, toEndpoint, type Endpoint } from '../../src/index.js';
import { breakerRotations } from '../../src/policies/circuit-breaker.js';
import { EndpointHealthFilter } from '../../src/health/endpoint-health-filter.js';
import { resolveOutlierDetection } from '../../src/health/outlier-options.js';
import { HEALTH_CHECK_ONLY_DETECTION } from '../../src/health/active-health-check-options.js';
import { resolveEndpointCircuitBreakers } from '../../src/health/endpoint-breaker-options.js';
import { systemClock } from '../../src/core/clock.js';
import { settleTimerHooks, trackTimers } from '../helpers/timers.js';

/**
 * Timers created by opossum, by the endpoint breakers, or by the breaker
 * engine and its shared rotation (directly or through the clock). The filter's own review timer
 * is not a breaker timer and is left out.
 */
function isEndpointBreakerTimer(stack: string): boolean {
  const lines = stack.split('\n');
  const at = lines.findIndex((line) => /at (setTimeout|setInterval) \(node:timers/.test(line));
  const [first = '', second = ''] = lines.slice(at + 1).filter((line) => !line.includes('(node:'));
  const ours = /[\\/](src[\\/]health[\\/]endpoint-breaker|src[\\/]policies[\\/]circuit-breaker|src[\\/]breaker[\\/])/;
  return /[\\/]opossum[\\/]lib[\\/]/.test(first) || ours.test(first) || (/[\\/]src[\\/]core[\\/]clock\./.test(first) && ours.test(second));
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('endpoint circuit breaker timers', () => {
  it('1,000 endpoint breakers share ONE rotation timer; open ones add only their reset timers; close() leaves none', async () => {
    const timers = trackTimers(isEndpointBreakerTimer);
    const endpoints: Endpoint[] = Array.from({ length: 1000 }, (_, i) => toEndpoint(`127.0.0.1:${10_000 + i}`, 'e'));
    // Buckets of a minute: the shared timer must not tick (and re-arm, a second Timeout) while the test counts.
    const settings = resolveEndpointCircuitBreakers({ volumeThreshold: 1, errorThreshold: 0.5, resetTimeout: '1h', window: '10m', buckets: 10 });
    const d = new EndpointHealthFilter(resolveOutlierDetection({ ...HEALTH_CHECK_ONLY_DETECTION, panicThreshold: 0 }), systemClock, () => undefined, 'fleet', settings);
    try {
      d.setEndpoints(endpoints);
      assert.equal(timers.created, 0, 'no breaker before an endpoint is used');
      for (const endpoint of endpoints) d.observe(endpoint, Outcomes.success);
      await settle();
      assert.equal(d.endpointBreakers?.size, 1000);
      assert.equal(timers.created, 1, 'one rotation timer for all 1,000 breakers');
      assert.deepEqual(breakerRotations(), [{ bucketMs: 60_000, breakers: 1000, running: true }]);
      // 1,000 more attempts each: still no timer per call.
      for (const endpoint of endpoints) d.observe(endpoint, Outcomes.success);
      await settle();
      assert.equal(timers.created, 1);
      // Opening breakers arms opossum's reset timer for each open one (and only while open).
      for (const endpoint of endpoints.slice(0, 10)) {
        for (let i = 0; i < 3; i++) d.observe(endpoint, Outcomes.connect); // 3 of 5 failed
      }
      await settle();
      assert.equal(d.available.length, 990);
      assert.equal(timers.created, 11);
      // Endpoints leaving the set take their breakers (and reset timers) with them.
      d.setEndpoints(endpoints.slice(500));
      assert.deepEqual(breakerRotations(), [{ bucketMs: 60_000, breakers: 500, running: true }]);
      await settleTimerHooks();
      assert.equal(timers.live, 1, 'the open breakers left: only the rotation remains');
    } finally {
      d.close();
    }
    assert.deepEqual(breakerRotations(), []);
    await settleTimerHooks();
    assert.equal(timers.live, 0, 'no breaker timer left after close()');
    timers.stop();
  });
});
