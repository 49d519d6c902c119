import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import CircuitBreaker from 'opossum';
import { breakerRotations, circuitBreaker, type CircuitBreakerPolicy } from '../../src/policies/circuit-breaker.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import { trackBreakerTimers } from './breaker-timers.js';



/** Destroy hooks for cleared timers run asynchronously: give them a few turns. */
async function settleHooks(): Promise<void> {
  for (let i = 0; i < 3; i++) await sleep(1);
}

describe('circuit breaker timers', () => {
  it('the tracker sees stock opossum create two timers per breaker (the control)', async () => {
    const timers = trackBreakerTimers();
    try {
      const stock = Array.from({ length: 5 }, () => new CircuitBreaker(() => Promise.resolve(1)));
      assert.equal(timers.created, 10, 'bucket rotation + snapshots, per breaker');
      for (const b of stock) b.shutdown();
      await settleHooks();
      assert.equal(timers.live, 0);
    } finally {
      timers.stop();
    }
  });

  it('1,000 breakers share one rotation timer; it stops when the last one closes', async () => {
    const timers = trackBreakerTimers();
    try {
      const breakers: CircuitBreakerPolicy[] = [];
      for (let i = 0; i < 1000; i++) breakers.push(circuitBreaker({ window: '10s', buckets: 10 }));
      assert.equal(timers.created, 1, 'one timer for all 1,000');
      assert.deepEqual(breakerRotations(), [{ bucketMs: 1000, breakers: 1000, running: true }]);
      // A different bucket length needs its own (one) timer.
      const other = circuitBreaker({ window: '1m', buckets: 6 });
      assert.equal(timers.created, 2);
      assert.equal(breakerRotations().length, 2);
      other.close();
      for (const b of breakers.slice(1)) b.close();
      assert.deepEqual(breakerRotations(), [{ bucketMs: 1000, breakers: 1, running: true }]);
      (breakers[0] as CircuitBreakerPolicy).close();
      assert.deepEqual(breakerRotations(), []);
      await settleHooks();
      assert.equal(timers.live, 0, 'no breaker timer left');
      // The next breaker starts a fresh rotation.
      const again = circuitBreaker({});
      assert.deepEqual(breakerRotations(), [{ bucketMs: 1000, breakers: 1, running: true }]);
      again.close();
      assert.deepEqual(breakerRotations(), []);
    } finally {
      timers.stop();
    }
  });

  it('one rotation tick rotates every breaker sharing it', async () => {
    const clock = new VirtualClock();
    const breakers = Array.from({ length: 100 }, () => circuitBreaker({ window: 100, buckets: 2, volumeThreshold: 1000, clock }));
    try {
      const call = { service: 's', current: undefined, stopped: undefined } as never;
      for (const b of breakers) await b.wrap(() => Promise.resolve(1))(call);
      assert.ok(breakers.every((b) => b.stats().calls === 1));
      await clock.advance(50);
      assert.ok(breakers.every((b) => b.stats().calls === 1), 'still inside the window');
      assert.equal(clock.pendingTimers, 1, 'one shared timer on the clock');
      await clock.advance(50);
      assert.ok(breakers.every((b) => b.stats().calls === 0), 'rolled out');
    } finally {
      for (const b of breakers) b.close();
    }
    assert.equal(clock.pendingTimers, 0);
  });

  it('an open breaker holds one reset timer, released by close()', async () => {
    const timers = trackBreakerTimers();
    try {
      const b = circuitBreaker({ volumeThreshold: 1, errorThreshold: 0, resetTimeout: '1h' });
      const call = { service: 's', current: undefined, stopped: undefined } as never;
      await assert.rejects(b.wrap(() => Promise.reject(new Error('down')))(call), /down/);
      assert.equal(b.state, 'open');
      assert.equal(timers.created, 2, 'the rotation and the reset timeout');
      assert.equal(timers.live, 2);
      b.close();
      await settleHooks();
      assert.equal(timers.live, 0);
      assert.deepEqual(breakerRotations(), []);
    } finally {
      timers.stop();
    }
  });

  it('makes no timer per call', async () => {
    const b = circuitBreaker({});
    const timers = trackBreakerTimers();
    try {
      const invoke = b.wrap(() => Promise.resolve(1));
      const call = { service: 's', current: undefined, stopped: undefined } as never;
      for (let i = 0; i < 1000; i++) await invoke(call);
      assert.equal(timers.created, 0);
    } finally {
      timers.stop();
      b.close();
    }
  });
});
