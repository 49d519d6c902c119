import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { circuitBreaker, client, isMeshkitError, subscribe, type CircuitBreakerPolicy, type Client } from '../../src/index.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';

/**
 * docs/architecture.md: when a caller's deadline runs out after an attempt
 * had already failed by the upstream's doing (a per-try timeout, say), the
 * call's ERR_DEADLINE_EXCEEDED is the upstream's, whether it runs out
 * between attempts or during the next one.
 */
describe('a caller\'s deadline that runs out after an upstream failure', () => {
  /** A client on a virtual clock whose calls never answer: per-try 100 ms, total 10 s, one retry after ~1 ms. */
  function hung(name: string): { c: Client; clock: VirtualClock; breaker: CircuitBreakerPolicy; ends: string[]; stop(): void } {
    const clock = new VirtualClock(0, 1);
    const breaker = circuitBreaker({ volumeThreshold: 1000 });
    const c = client(name).endpoints(['127.0.0.1:1', '127.0.0.2:1']).clock(clock)
      .timeout({ perTry: 100, total: '10s' }).retry({ attempts: 2, backoff: { base: 1, cap: 1 }, budget: false }).policy(breaker).build();
    const ends: string[] = [];
    const stop = subscribe('attemptEnd', (a) => {
      if (a.call.service === name) ends.push(`${a.number}:${a.outcome?.reason}/${a.outcome?.blame}`);
    });
    return { c, clock, breaker, ends, stop };
  }

  const never = (): Promise<never> => new Promise(() => {});

  it('during the retry attempt, is the upstream\'s: the breaker counts it', async () => {
    const { c, clock, breaker, ends, stop } = hung('deadline-after-timeout');
    try {
      const pending = c.call(never, { idempotent: true, timeout: 150 }).catch((error: unknown) => error);
      await clock.advance(200);
      const error = await pending;
      assert.ok(isMeshkitError(error, 'ERR_DEADLINE_EXCEEDED'), String(error));
      assert.equal(error.blame, 'upstream');
      // The second attempt was cut by the caller's deadline: its endpoint is not charged, only the call is the upstream's.
      assert.deepEqual(ends, ['1:timeout/upstream', '2:deadline/caller']);
      assert.equal(breaker.stats().failures, 1, 'the breaker saw a hung upstream');
    } finally {
      stop();
      await c.close({ timeout: 0 });
    }
  });

  it('with no upstream failure before it, is still the caller\'s', async () => {
    const { c, clock, breaker, ends, stop } = hung('deadline-first-attempt');
    try {
      const pending = c.call(never, { idempotent: true, timeout: 50 }).catch((error: unknown) => error);
      await clock.advance(100);
      const error = await pending;
      assert.ok(isMeshkitError(error, 'ERR_DEADLINE_EXCEEDED'), String(error));
      assert.equal(error.blame, 'caller');
      assert.deepEqual(ends, ['1:deadline/caller']);
      assert.equal(breaker.stats().failures, 0);
    } finally {
      stop();
      await c.close({ timeout: 0 });
    }
  });
});
