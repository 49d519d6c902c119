import { CallRecord } from '../../src/attempts/call-record.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { client, isMeshkitError, type Classifier, type CallContext } from '../../src/index.js';
import type { CallTransport } from '../../src/core/call-transport.js';
import { rateLimit } from '../../src/policies/rate-limit.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import { startUpstream } from '../helpers/upstream.js';

function makeCall(options: { deadline?: number; signal?: AbortSignal } = {}): CallRecord {
  return new CallRecord('svc', undefined, {} as CallTransport, {} as Classifier, 0, options.deadline ?? Infinity, true, true, options.signal);
}

/** Records how a promise settled, without leaving a rejection unhandled. */
function track<T>(promise: Promise<T>) {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  promise.then((value) => Object.assign(state, { settled: true, value }), (error: unknown) => Object.assign(state, { settled: true, error }));
  return state;
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A limiter whose `next` logs the clock time of every call it admits. */
function limiter(clock: VirtualClock, options: Omit<Parameters<typeof rateLimit>[0], 'clock'>) {
  const policy = rateLimit({ ...options, clock });
  const admitted: number[] = [];
  const invoke = policy.wrap(async () => {
    admitted.push(clock.now());
    return 'ok';
  });
  return { policy, admitted, invoke };
}

function retryAfter(error: unknown): unknown {
  return isMeshkitError(error, 'ERR_LIMIT_EXCEEDED') && error.details['reason'] === 'rate-limit' ? error.details['retryAfterMs'] : error;
}

/** Largest number of admissions in excess of burst + rate * t over any interval [a, b] of the log. */
function worstExcess(times: readonly number[], burst: number, ratePerMs: number): number {
  let worst = -Infinity;
  for (let i = 0; i < times.length; i++) {
    for (let j = i; j < times.length; j++) {
      worst = Math.max(worst, j - i + 1 - (burst + ratePerMs * ((times[j] as number) - (times[i] as number))));
    }
  }
  return worst;
}

describe('rateLimit options', () => {
  it('rejects bad options naming them', () => {
    for (const [options, option] of [
      [{}, 'rateLimit.rate'], [{ rate: 0 }, 'rateLimit.rate'], [{ rate: Infinity }, 'rateLimit.rate'],
      [{ rate: 1, per: 0 }, 'rateLimit.per'], [{ rate: 1, per: 'daily' }, 'rateLimit.per'],
      [{ rate: 1, burst: 0.5 }, 'rateLimit.burst'], [{ rate: 1, maxWait: -1 }, 'rateLimit.maxWait'],
      // Past Node's timer limit (2^31 - 1 ms): refused, so no wait or refill timer can overflow.
      [{ rate: 1, per: '1000h' }, 'rateLimit.per'], [{ rate: 1, maxWait: '1000h' }, 'rateLimit.maxWait'], [{ rate: 1, maxWait: Infinity }, 'rateLimit.maxWait'],
      [{ rate: 1, clock: { now: () => 0 } }, 'rateLimit.clock'], [null, 'rateLimit'],
    ] as const) {
      assert.throws(() => rateLimit(options as never), (e: unknown) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === option, option);
    }
  });

  it('states its defaults: per 1 s, burst = rate (at least 1), no waiting', () => {
    assert.deepEqual({ ...rateLimit({ rate: 100 }).settings }, { rate: 100, perMs: 1000, burst: 100, maxWaitMs: 0 });
    assert.deepEqual({ ...rateLimit({ rate: 0.5, per: '1m' }).settings }, { rate: 0.5, perMs: 60_000, burst: 1, maxWaitMs: 0 });
    assert.deepEqual({ ...rateLimit({ rate: 5, burst: 2, maxWait: '250ms' }).settings }, { rate: 5, perMs: 1000, burst: 2, maxWaitMs: 250 });
  });
});

describe('rateLimit token bucket (virtual clock)', () => {
  it('starts full, admits the burst, then one call per 1/rate, and says when to retry', async () => {
    const clock = new VirtualClock();
    const { policy, admitted, invoke } = limiter(clock, { rate: 10, burst: 5 }); // a token per 100 ms
    const first = Array.from({ length: 6 }, () => track(invoke(makeCall())));
    await flush();
    assert.equal(admitted.length, 5);
    assert.equal(retryAfter(first[5]?.error), 100);
    const error = first[5]?.error as { details: unknown; message: string };
    assert.deepEqual(error.details, { service: 'svc', reason: 'rate-limit', retryAfterMs: 100, rate: 10, per: 1000, burst: 5 });
    await clock.advance(50);
    assert.equal(policy.tokens(), 0.5);
    assert.equal(retryAfter(await invoke(makeCall()).catch((e: unknown) => e)), 50);
    await clock.advance(50);
    assert.equal(await invoke(makeCall()), 'ok');
    assert.equal(policy.tokens(), 0);
    await clock.advance(250);
    assert.equal(policy.tokens(), 2.5);
    await clock.advance(10_000);
    assert.equal(policy.tokens(), 5, 'capped at burst');
    assert.deepEqual(admitted, [0, 0, 0, 0, 0, 100]);
  });

  it('counts the rate over per: 3 per 2 s is a token every 666.7 ms, and a full bucket overflows', async () => {
    const clock = new VirtualClock();
    const { policy, admitted, invoke } = limiter(clock, { rate: 3, per: '2s', burst: 1 });
    for (let t = 0; t <= 4000; t += 100) {
      await invoke(makeCall()).catch(() => undefined);
      await clock.advance(100);
    }
    // The bucket holds 1: the token that is full at 666.7 ms waits for the call at 700,
    // and what accrues meanwhile is lost, so a call passes every 700 ms.
    assert.deepEqual(admitted, [0, 700, 1400, 2100, 2800, 3500]);
    assert.ok(Math.abs(policy.tokens() - (4100 - 3500) * (3 / 2000)) < 1e-9);
    // With room in the bucket, nothing is lost: 2 tokens accrue in 1333.3 ms.
    const roomy = limiter(clock, { rate: 3, per: '2s', burst: 2 });
    await roomy.invoke(makeCall());
    await roomy.invoke(makeCall());
    await clock.advance(1334);
    await roomy.invoke(makeCall());
    await roomy.invoke(makeCall());
    assert.equal(roomy.admitted.length, 4);
    assert.ok(roomy.policy.tokens() < 0.01);
  });

  it('admits the configured rate under a steady overload', async () => {
    const clock = new VirtualClock();
    const { admitted, invoke } = limiter(clock, { rate: 10, burst: 5 });
    for (let t = 0; t < 10_000; t += 10) {
      await invoke(makeCall()).catch(() => undefined);
      await clock.advance(10);
    }
    assert.equal(admitted.length, 5 + 99, 'the burst, then 10 per second for 9.99 s');
  });

  it('never admits more than burst + rate x t in any interval t (property)', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 10 }), fc.array(fc.integer({ min: 0, max: 400 }), { maxLength: 150 }),
      (rate, burst, gaps) => {
        const admitted: number[] = [];
        let now = 0;
        const policy = rateLimit({ rate, burst, clock: { now: () => now, random: Math.random, setTimeout: () => 0, clearTimeout: () => undefined } });
        const invoke = policy.wrap(() => {
          admitted.push(now);
          return Promise.resolve();
        });
        for (const gap of gaps) {
          now += gap;
          invoke(makeCall()).catch(() => undefined);
        }
        assert.ok(worstExcess(admitted, burst, rate / 1000) <= 1e-9);
      },
    ));
  });

  it('with maxWait, queues calls in order and admits each when its token is due', async () => {
    const clock = new VirtualClock();
    const { policy, admitted, invoke } = limiter(clock, { rate: 10, burst: 2, maxWait: 300 });
    const calls = Array.from({ length: 6 }, () => track(invoke(makeCall())));
    await flush();
    assert.equal(admitted.length, 2);
    assert.equal(policy.waiting, 3, 'the 3 that fit within 300 ms wait');
    assert.equal(retryAfter(calls[5]?.error), 400, 'the 6th would wait 400 ms: rejected at once');
    assert.equal(clock.pendingTimers, 1, 'one timer for the whole queue');
    await clock.advance(99);
    assert.equal(admitted.length, 2);
    await clock.advance(1);
    assert.deepEqual(admitted, [0, 0, 100]);
    await clock.advance(200);
    assert.deepEqual(admitted, [0, 0, 100, 200, 300]);
    assert.equal(calls.slice(0, 5).every((c) => c.value === 'ok'), true);
    assert.equal(policy.waiting, 0);
    assert.equal(clock.pendingTimers, 0);
  });

  it('does not start a wait that would outlast the deadline', async () => {
    const clock = new VirtualClock();
    const { admitted, invoke } = limiter(clock, { rate: 10, burst: 1, maxWait: '1s' });
    await invoke(makeCall());
    assert.equal(retryAfter(await invoke(makeCall({ deadline: 100 })).catch((e: unknown) => e)), 100);
    const fits = track(invoke(makeCall({ deadline: 101 })));
    await clock.advance(100);
    assert.equal(fits.value, 'ok');
    assert.deepEqual(admitted, [0, 100]);
  });

  it('an aborted waiter leaves with ERR_ABORTED; those behind it move up', async () => {
    const clock = new VirtualClock();
    const { policy, admitted, invoke } = limiter(clock, { rate: 10, burst: 1, maxWait: '1s' });
    await invoke(makeCall());
    const controller = new AbortController();
    const a = track(invoke(makeCall({ signal: controller.signal }))); // next token, at 100
    const b = track(invoke(makeCall())); // the one after, at 200
    assert.equal(policy.waiting, 2);
    controller.abort(new Error('bored'));
    await flush();
    assert.equal(isMeshkitError(a.error, 'ERR_ABORTED'), true);
    assert.equal(policy.waiting, 1);
    const c = track(invoke(makeCall()));
    await clock.advance(200);
    assert.deepEqual(admitted, [0, 100, 200]);
    assert.equal(b.value, 'ok');
    assert.equal(c.value, 'ok');
    const pre = await invoke(makeCall({ signal: AbortSignal.abort() })).catch((e: unknown) => e);
    assert.equal(isMeshkitError(pre, 'ERR_ABORTED'), true);
    assert.equal(clock.pendingTimers, 0);
    // The last waiter aborting takes the timer with it.
    const controller2 = new AbortController();
    track(invoke(makeCall({ signal: controller2.signal })));
    assert.equal(clock.pendingTimers, 1);
    controller2.abort();
    assert.equal(clock.pendingTimers, 0);
  });

  it('a late timer admits no more than the bucket holds; newcomers never jump the queue', async () => {
    let now = 0;
    const timers: (() => void)[] = [];
    const lateClock = {
      now: () => now, random: Math.random,
      setTimeout: (fn: () => void) => timers.push(fn), clearTimeout: () => undefined,
    };
    const policy = rateLimit({ rate: 10, burst: 2, maxWait: '1s', clock: lateClock });
    const admitted: number[] = [];
    const invoke = policy.wrap(() => {
      admitted.push(now);
      return Promise.resolve('ok');
    });
    for (let i = 0; i < 6; i++) void invoke(makeCall()).catch(() => undefined);
    assert.deepEqual(admitted, [0, 0]);
    assert.equal(policy.waiting, 4);
    now = 350; // the timer fires 250 ms late: 2 tokens (the bucket's size) have accrued, not 3.5
    timers.shift()?.();
    assert.deepEqual(admitted, [0, 0, 350, 350]);
    void invoke(makeCall()).catch(() => undefined); // a newcomer queues behind the 2 still waiting
    assert.equal(policy.waiting, 3);
    assert.equal(admitted.length, 4);
  });

  it('close() rejects waiters with ERR_CLIENT_CLOSED and clears the timer', async () => {
    const clock = new VirtualClock();
    const { policy, admitted, invoke } = limiter(clock, { rate: 1, burst: 1, maxWait: '10s' });
    await invoke(makeCall());
    const waiting = [track(invoke(makeCall())), track(invoke(makeCall()))];
    assert.equal(clock.pendingTimers, 1);
    policy.close();
    policy.close();
    await flush();
    assert.equal(waiting.every((w) => isMeshkitError(w.error, 'ERR_CLIENT_CLOSED')), true);
    assert.equal(clock.pendingTimers, 0);
    assert.equal(isMeshkitError(await invoke(makeCall()).catch((e: unknown) => e), 'ERR_CLIENT_CLOSED'), true);
    await clock.advance(1000);
    assert.equal(await invoke(makeCall()), 'ok', 'a call that finds a token still passes');
    assert.deepEqual(admitted, [0, 1000]);
  });

  it('with waiting, still never admits more than burst + rate x t, and serves in order (property)', async () => {
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 500 }),
      fc.array(fc.integer({ min: 0, max: 200 }), { maxLength: 40 }),
      async (rate, burst, maxWait, gaps) => {
        const clock = new VirtualClock();
        const policy = rateLimit({ rate, burst, maxWait, clock });
        const admitted: { t: number; id: number }[] = [];
        const ids = new Map<CallContext, number>();
        const invoke = policy.wrap((call) => {
          admitted.push({ t: clock.now(), id: ids.get(call) as number });
          return Promise.resolve();
        });
        const results = [];
        for (const gap of gaps) {
          await clock.advance(gap);
          const call = makeCall();
          ids.set(call, ids.size);
          results.push(track(invoke(call)));
        }
        await clock.advance(maxWait + 1);
        assert.equal(policy.waiting, 0);
        assert.equal(clock.pendingTimers, 0);
        assert.ok(results.every((r) => r.settled));
        assert.ok(worstExcess(admitted.map((a) => a.t), burst, rate / 1000) <= 1e-9);
        const order = admitted.map((a) => a.id);
        assert.deepEqual(order, [...order].sort((x, y) => x - y), 'admitted in arrival order');
        for (const r of results) if (r.error !== undefined) assert.equal(typeof retryAfter(r.error), 'number');
      },
    ), { numRuns: 100 });
  });
});

describe('rateLimit with a real client and server', () => {
  it('admits the configured rate and rejects the excess at once', async (t) => {
    const upstream = await startUpstream();
    t.after(() => upstream.close());
    await using c = client('rate-limit-it').endpoints([upstream.address]).policy(rateLimit({ rate: 50, burst: 5 })).build();
    const started = performance.now();
    let rejected = 0;
    while (performance.now() - started < 1000) {
      try {
        const res = await c.request({ path: '/' });
        await res.body.dump();
      } catch (error) {
        assert.equal(typeof retryAfter(error), 'number');
        rejected++;
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    }
    const elapsed = performance.now() - started;
    const served = upstream.requests.length;
    t.diagnostic(`${served} served and ${rejected} rejected in ${Math.round(elapsed)} ms at 50/s, burst 5`);
    assert.ok(served <= 5 + (50 * elapsed) / 1000 + 1, `${served} served in ${elapsed} ms`);
    assert.ok(served >= 0.6 * (50 * elapsed) / 1000, `only ${served} served in ${elapsed} ms`);
    assert.ok(rejected > 0);
  });

  it('with maxWait, every call gets through, paced at the rate', async (t) => {
    const upstream = await startUpstream();
    t.after(() => upstream.close());
    const limit = rateLimit({ rate: 50, burst: 5, maxWait: '5s' });
    await using c = client('rate-limit-wait-it').endpoints([upstream.address]).policy(limit).build();
    const started = performance.now();
    const statuses = await Promise.all(Array.from({ length: 30 }, async () => {
      const res = await c.request({ path: '/' });
      await res.body.dump();
      return res.statusCode;
    }));
    const elapsed = performance.now() - started;
    assert.deepEqual(statuses, Array(30).fill(200));
    assert.equal(upstream.requests.length, 30);
    assert.ok(elapsed >= 450 && elapsed < 5000, `30 calls at 50/s after a burst of 5 took ${elapsed} ms`);
    assert.equal(limit.waiting, 0);
  });
});
