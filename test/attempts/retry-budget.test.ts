import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Pool } from 'undici';
import { client, isMeshkitError, roundRobin } from '../../src/index.js';
import { RetryBudget, resolveRetryBudget } from '../../src/attempts/retry-budget.js';
import { startUpstreams, type Upstream } from '../helpers/upstream.js';

describe('RetryBudget', () => {
  it('allows the floor plus the ratio of calls in the window', () => {
    const budget = new RetryBudget(resolveRetryBudget({ ratio: 0.2, minPerSecond: 1, ttl: '10s' }));
    let t = 0;
    for (let i = 0; i < 100; i++) budget.recordCall(t);
    let granted = 0;
    while (budget.tryRetry(t)) granted++;
    assert.equal(granted, 10 + 20, 'floor 1/s x 10 s + 20 % of 100 calls');
    t += 11_000; // the window has passed: calls and retries expired
    assert.equal(budget.remaining(t), 10);
    for (let i = 0; i < 50; i++) budget.recordCall(t);
    assert.equal(budget.remaining(t), 20);
  });

  it('never grants more than floor + ratio x calls within any window (property)', () => {
    fc.assert(fc.property(
      fc.array(fc.record({ gap: fc.integer({ min: 0, max: 2000 }), calls: fc.integer({ min: 0, max: 20 }), retries: fc.integer({ min: 0, max: 20 }) }), { maxLength: 60 }),
      (steps) => {
        const budget = new RetryBudget(resolveRetryBudget({ ratio: 0.25, minPerSecond: 2, ttl: '10s' }));
        let t = 0;
        const log: { t: number; calls: number; retries: number }[] = [];
        for (const step of steps) {
          t += step.gap;
          for (let i = 0; i < step.calls; i++) budget.recordCall(t);
          let granted = 0;
          for (let i = 0; i < step.retries; i++) if (budget.tryRetry(t)) granted++;
          log.push({ t, calls: step.calls, retries: granted });
          // Everything within the last 9 s is certainly still in the window (buckets of 1 s).
          const recent = log.filter((e) => e.t > t - 9000);
          const calls = log.filter((e) => e.t > t - 11_000).reduce((s, e) => s + e.calls, 0);
          const retries = recent.reduce((s, e) => s + e.retries, 0);
          assert.ok(retries <= 20 + 0.25 * calls + 1e-9, `${retries} retries for ${calls} calls`);
        }
      },
    ));
  });

  it('rejects bad options naming them', () => {
    for (const [options, option] of [[{ ratio: -1 }, 'retry.budget.ratio'], [{ minPerSecond: -1 }, 'retry.budget.minPerSecond'], [{ ttl: 0 }, 'retry.budget.ttl']] as const) {
      assert.throws(() => client('x').endpoints(['127.0.0.1:1']).retry({ budget: options }), (e: unknown) =>
        isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === option);
    }
  });
});

describe('retry budget against real servers', () => {
  it('all instances down: attempts stay within (1 + ratio) x calls + floor, while a naive 3-retry loop sends 4x', async (t) => {
    const ups = await startUpstreams([{ status: 503 }, { status: 503 }, { status: 503 }]);
    t.after(() => Promise.all(ups.map((u) => u.close())));
    const received = (): number => ups.reduce((sum, u) => sum + u.requests.length, 0);
    const calls = 200;

    await using c = client('budgeted').endpoints(ups.map((u) => u.address)).balancer(roundRobin())
      .retry({ attempts: 4, backoff: { base: 1, cap: 2 }, budget: { ratio: 0.2, minPerSecond: 1, ttl: '10s' } }).build();
    for (let i = 0; i < calls; i++) await (await c.request({ path: '/' })).body.dump();
    const withBudget = received();
    assert.ok(withBudget >= calls, 'every call made its first attempt');
    assert.ok(withBudget <= calls * 1.2 + 10, `${withBudget} attempts for ${calls} calls`);

    // The naive loop: up to 3 retries per request, no budget.
    const pools = ups.map((u) => new Pool(`http://${u.address}`));
    t.after(() => Promise.all(pools.map((p) => p.close())));
    const before = received();
    for (let i = 0; i < calls; i++) {
      for (let attempt = 0; attempt < 4; attempt++) {
        const res = await (pools[(i + attempt) % pools.length] as Pool).request({ path: '/', method: 'GET' });
        await res.body.dump();
        if (res.statusCode < 500) break;
      }
    }
    assert.equal(received() - before, calls * 4);
  });

  it('a POST without opt-in or Idempotency-Key is never sent twice, whether it gets a 503 or a reset', async (t) => {
    const [unavailable] = (await startUpstreams([{ status: 503 }])) as [Upstream];
    let resets = 0;
    const resetting = http.createServer((req) => {
      resets++;
      req.socket.destroy();
    });
    await new Promise<void>((resolve) => resetting.listen(0, '127.0.0.1', resolve));
    t.after(async () => {
      await unavailable.close();
      resetting.closeAllConnections();
      await new Promise((resolve) => resetting.close(resolve));
    });
    const port = (resetting.address() as { port: number }).port;
    await using c = client('posts').endpoints([unavailable.address, `127.0.0.1:${port}`]).balancer(roundRobin())
      .retry({ attempts: 5, backoff: { base: 1, cap: 2 } }).build();
    let failures = 0;
    for (let i = 0; i < 20; i++) {
      try {
        await (await c.request({ path: '/', method: 'POST', body: 'charge' })).body.dump();
      } catch {
        failures++;
      }
    }
    assert.equal(unavailable.requests.length + resets, 20, 'exactly one attempt per POST');
    assert.equal(failures, resets, 'a reset POST fails rather than being sent again');
  });
});
