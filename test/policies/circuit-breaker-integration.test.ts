import assert from 'node:assert/strict';
import * as diagnosticsChannel from 'node:diagnostics_channel';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { client, isMeshkitError } from '../../src/index.js';
import { breakerRotations, circuitBreaker, type BreakerStateMessage } from '../../src/policies/circuit-breaker.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';
import { trackBreakerTimers } from './breaker-timers.js';

async function waitFor(what: string, predicate: () => boolean, timeoutMs = 5_000): Promise<void> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > timeoutMs) assert.fail(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

async function settle<T>(promise: Promise<T>): Promise<T | unknown> {
  try {
    return await promise;
  } catch (error) {
    return error;
  }
}



describe('circuit breaker with a real client and real servers', () => {
  let upstream: Upstream;
  before(async () => {
    upstream = await startUpstream();
  });
  after(async () => {
    await upstream.close();
  });

  it('opens on 503s, fails fast without reaching the server, and closes after a successful half-open trial', async () => {
    upstream.behaviour = {};
    const timers = trackBreakerTimers();
    const transitions: string[] = [];
    const breaker = circuitBreaker({ volumeThreshold: 5, errorThreshold: 0.5, resetTimeout: '1s' });
    const onState = (message: unknown): void => {
      const m = message as BreakerStateMessage;
      if (m.breaker === breaker) transitions.push(`${m.service}:${m.previous}->${m.state}`);
    };
    diagnosticsChannel.subscribe('meshkit:breaker:state', onState);
    try {
      const c = client('cb-orders').endpoints([upstream.address]).retry(false).policy(breaker).build();
      for (let i = 0; i < 3; i++) {
        const res = await c.request({ path: '/ok' });
        assert.equal(res.statusCode, 200);
        await res.body.dump();
      }

      // The upstream starts failing: 503s are returned to the caller and counted.
      upstream.behaviour = { status: 503 };
      let failed = 0;
      while (breaker.state === 'closed') {
        const res = await c.request({ path: '/failing' });
        assert.equal(res.statusCode, 503, 'the caller still gets the 503');
        await res.body.dump();
        failed++;
        assert.ok(failed <= 10, 'opened within 10 failures');
      }
      // 3 ok then failures: 4 of 7 (57 %) is the first ratio above 50 % with >= 5 calls.
      assert.equal(failed, 4);
      assert.equal(breaker.state, 'open');

      // Open: refused at once, nothing reaches the server.
      const reached = upstream.requests.length;
      for (let i = 0; i < 20; i++) {
        const error = await settle(c.request({ path: '/refused' }));
        assert.ok(isMeshkitError(error, 'ERR_CIRCUIT_OPEN'), String(error));
        assert.equal(error.details['service'], 'cb-orders');
      }
      const viaFetch = await settle(c.fetch('http://cb-orders/refused'));
      assert.ok(isMeshkitError(viaFetch, 'ERR_CIRCUIT_OPEN'));
      const viaCall = await settle(c.call(() => Promise.resolve('never')));
      assert.ok(isMeshkitError(viaCall, 'ERR_CIRCUIT_OPEN'));
      assert.equal(upstream.requests.length, reached, 'no request reached the server while open');
      assert.equal(breaker.stats().rejected, 22);

      // The upstream recovers; after resetTimeout exactly one trial goes through.
      upstream.behaviour = { delayMs: 50 };
      await waitFor('half-open', () => breaker.state === 'half-open');
      const burst = await Promise.all(Array.from({ length: 5 }, () => settle(c.request({ path: '/trial' }))));
      const answered = burst.filter((r) => !isMeshkitError(r));
      assert.equal(answered.length, 1, 'one trial call');
      assert.ok(burst.filter((r) => isMeshkitError(r, 'ERR_CIRCUIT_OPEN')).length === 4);
      const trial = answered[0] as Awaited<ReturnType<typeof c.request>>;
      assert.equal(trial.statusCode, 200);
      await trial.body.dump();
      assert.equal(upstream.requests.length, reached + 1, 'only the trial reached the server');
      assert.equal(breaker.state, 'closed');

      upstream.behaviour = {};
      for (let i = 0; i < 10; i++) {
        const res = await c.request({ path: '/ok' });
        assert.equal(res.statusCode, 200);
        await res.body.dump();
      }
      assert.deepEqual(transitions, ['cb-orders:closed->open', 'cb-orders:open->half-open', 'cb-orders:half-open->closed']);

      await c.close();
      assert.equal(breaker.stats().active, false, 'client.close() closed the breaker');
      assert.deepEqual(breakerRotations(), []);
      for (let i = 0; i < 3; i++) await sleep(1);
      assert.equal(timers.live, 0, 'no breaker timer left after close');
    } finally {
      diagnosticsChannel.unsubscribe('meshkit:breaker:state', onState);
      timers.stop();
    }
  });

  it('counts one logical call once, retries included', async () => {
    upstream.behaviour = { status: 503 };
    const breaker = circuitBreaker({ volumeThreshold: 100 });
    const c = client('cb-retries').endpoints([upstream.address]).retry({ attempts: 3, backoff: { base: 1, cap: 2 } }).policy(breaker).build();
    try {
      const before = upstream.requests.length;
      for (let i = 0; i < 4; i++) {
        const res = await c.request({ path: '/retried' });
        assert.equal(res.statusCode, 503);
        await res.body.dump();
      }
      assert.equal(upstream.requests.length - before, 12, 'three attempts per call reached the server');
      const stats = breaker.stats();
      assert.equal(stats.calls, 4);
      assert.equal(stats.failures, 4);
    } finally {
      await c.close();
      breaker.close();
      upstream.behaviour = {};
    }
  });

  it('before a slow upstream: the client\'s own deadline counts; the caller\'s aborts and deadlines do not', async () => {
    upstream.behaviour = { delayMs: 2_000 };
    const breaker = circuitBreaker({ volumeThreshold: 2, errorThreshold: 0.5, resetTimeout: '1h' });
    const c = client('cb-slow').endpoints([upstream.address]).retry(false).timeout({ total: '1s' }).policy(breaker).build();
    try {
      for (let i = 0; i < 3; i++) {
        const controller = new AbortController();
        const pending = settle(c.request({ path: '/slow', signal: controller.signal }));
        await sleep(10);
        controller.abort();
        assert.ok(isMeshkitError(await pending, 'ERR_ABORTED'));
      }
      // A per-call timeout tighter than the client's is the caller's deadline: its running out is the caller's doing.
      for (let i = 0; i < 3; i++) {
        const error = await settle(c.request({ path: '/slow', timeout: 30 }));
        assert.ok(isMeshkitError(error, 'ERR_DEADLINE_EXCEEDED'), String(error));
        assert.equal(error.blame, 'caller');
      }
      assert.equal(breaker.state, 'closed');
      assert.equal(breaker.stats().ignored, 6);
      assert.equal(breaker.stats().failures, 0);
      // The client's own total deadline is the service's bound: the upstream was too slow for it, and that counts.
      const error = await settle(c.request({ path: '/slow' }));
      assert.ok(isMeshkitError(error, 'ERR_DEADLINE_EXCEEDED'), String(error));
      assert.equal(error.blame, 'upstream');
      await settle(c.request({ path: '/slow' }));
      assert.equal(breaker.stats().failures, 2);
      assert.equal(breaker.state, 'open', '2 of 2 counted calls failed');
    } finally {
      await c.close({ timeout: 100 });
      breaker.close();
      upstream.behaviour = {};
    }
  });
});
