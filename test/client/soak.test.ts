import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  adaptiveConcurrency, adaptiveThrottle, bulkhead, client, rateLimit, subscribe, type Endpoint,
} from '../../src/index.js';
import { breakerRotations } from '../../src/policies/circuit-breaker.js';
import { heapAfterGc } from '../helpers/heap.js';
import { settleTimerHooks, trackTimers } from '../helpers/timers.js';
import { trackUnhandledRejections } from '../helpers/unhandled.js';

/** Timers made by meshkit's source or by opossum (the endpoint breakers' reset timers). */
function meshkitOrOpossum(stack: string): boolean {
  const lines = stack.split('\n');
  const at = lines.findIndex((line) => /at (setTimeout|setInterval) \(node:timers/.test(line));
  const caller = lines.slice(at + 1).find((line) => !line.includes('(node:')) ?? '';
  return /[\\/]src[\\/]/.test(caller) || /[\\/]opossum[\\/]lib[\\/]/.test(caller);
}

// The million-call run lives in bench (`npm run bench -- soak`); this is its smaller sibling.
describe('soak: the full pipeline with per-endpoint breakers', () => {
  it('60,000 calls, a flaky endpoint whose breaker keeps opening and closing: no unhandled rejection, a flat heap, no timer left', async () => {
    const unhandled = trackUnhandledRejections();
    const ejections = new Map<string, number>();
    const unsubscribe = subscribe('ejection', (m) => {
      if (m.ejected) ejections.set(m.reason ?? '', (ejections.get(m.reason ?? '') ?? 0) + 1);
    });
    const timers = trackTimers(meshkitOrOpossum);
    try {
      const c = client('soak')
        .endpoints(['127.0.0.1:1', '127.0.0.1:2', '127.0.0.1:3'])
        .timeout({ perTry: '1s', total: '2s' })
        .retry({ attempts: 3, backoff: { base: 0.1, cap: 0.2 } })
        .hedge({ after: '1s' })
        .outlierDetection({ consecutiveGatewayFailures: 1000 })
        .endpointCircuitBreakers({ volumeThreshold: 20, resetTimeout: '20ms' })
        .policy(rateLimit({ rate: 1e9 }))
        .policy(adaptiveThrottle({ minRequests: 1_000_000 }))
        .circuitBreaker({ volumeThreshold: 1_000_000 })
        .policy(bulkhead({ maxConcurrent: 10_000 }))
        .policy(adaptiveConcurrency({}))
        .build();
      const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      let n = 0;
      let flaky = 0;
      // Every 50th attempt is refused (retries, budgets, backoff run); the third endpoint refuses
      // 60 % of its attempts, so its breaker opens, turns half-open, and opens or closes again.
      const fn = (endpoint: Endpoint): Promise<number> => {
        if (endpoint.port === 3 && ++flaky % 5 < 3) return Promise.reject(refused);
        return ++n % 50 === 0 ? Promise.reject(refused) : Promise.resolve(n);
      };
      let failed = 0;
      const calls = async (count: number): Promise<void> => {
        let started = 0;
        // 16 at a time, under adaptive concurrency's floor of 20: nothing is shed.
        await Promise.all(Array.from({ length: 16 }, async () => {
          while (started < count) {
            started++;
            await c.call(fn, { idempotent: true }).catch(() => {
              failed++;
            });
          }
        }));
      };
      await calls(20_000);
      const early = heapAfterGc();
      await calls(40_000);
      const late = heapAfterGc();
      assert.ok(late - early < 4 * 1024 * 1024, `heap grew by ${((late - early) / 1024 / 1024).toFixed(1)} MB over 40,000 calls`);
      assert.ok((ejections.get('circuit-open') ?? 0) >= 2, `the flaky endpoint's breaker opened (${ejections.get('circuit-open') ?? 0} times)`);
      assert.ok(failed < 600, `retries cover the failures (${failed} of 60,000 calls failed)`);
      await c.close();
      await settleTimerHooks();
      assert.ok(timers.created > 0, 'the tracker saw timers (the check is live)');
      assert.equal(timers.live, 0, 'no meshkit or opossum timer alive after close()');
      assert.deepEqual(breakerRotations(), [], 'every breaker released its share of the rotation');
      assert.deepEqual(unhandled.reasons, []);
    } finally {
      timers.stop();
      unsubscribe();
      unhandled.stop();
    }
  });
});
