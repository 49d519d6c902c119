import { CallRecord } from '../../src/attempts/call-record.js';
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { client, isMeshkitError, Outcomes, type Classifier, type Client, type Outcome, type Policy, type CallContext } from '../../src/index.js';
import type { Attempt } from '../../src/attempts/attempt.js';
import type { CallTransport } from '../../src/core/call-transport.js';
import { statusOutcomeTable } from '../../src/core/outcome.js';
import { adaptiveConcurrency } from '../../src/policies/adaptive-concurrency.js';
import { adaptiveThrottle } from '../../src/policies/adaptive-throttle.js';
import { bulkhead } from '../../src/policies/bulkhead.js';
import { circuitBreaker } from '../../src/policies/circuit-breaker.js';
import { fallback } from '../../src/policies/fallback.js';
import { faultInjection } from '../../src/policies/fault-injection.js';
import { aimd } from '../../src/policies/limits/index.js';
import { rateLimit } from '../../src/policies/rate-limit.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';

/** Snapshots are plain JSON: a JSON round trip gives back the same value. */
function assertPlainJson(value: unknown): void {
  assert.deepEqual(JSON.parse(JSON.stringify(value)), value);
}

const clients: Client[] = [];
const closers: (() => void)[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  for (const close of closers.splice(0)) close();
});

/** A real client (no network: calls run a function) with `policies`, first outermost. */
function clientWith(...policies: Policy[]): Client {
  let builder = client('snap').endpoints(['127.0.0.1:9']).retry(false);
  for (const p of policies) builder = builder.policy(p);
  const c = builder.build();
  clients.push(c);
  return c;
}

/** A function call the test ends when it likes. */
function held(): { promise: Promise<string>; release(): void; fn: () => Promise<string> } {
  let release = (): void => undefined;
  const promise = new Promise<string>((resolve) => {
    release = () => resolve('done');
  });
  return { promise, release, fn: () => promise };
}

const refusal = (promise: Promise<unknown>): Promise<unknown> => promise.then(() => 'resolved', (e: unknown) => e);

describe('policy snapshots', () => {
  it('circuit breaker: state, since when, window counts, thresholds', async () => {
    const breaker = circuitBreaker({ volumeThreshold: 3, errorThreshold: 0.5, resetTimeout: '1m', window: '10s' });
    closers.push(() => breaker.close());
    const c = clientWith(breaker);
    const created = Date.now();
    const first = breaker.snapshot();
    assert.equal(first.kind, 'circuit-breaker');
    assert.equal(first.name, 'circuit-breaker');
    assert.equal(first.state, 'closed');
    assert.ok(Date.parse(first.since) <= created && Date.parse(first.since) > created - 60_000, 'since: its creation');
    assert.deepEqual(
      [first.calls, first.failures, first.errorRate, first.errorThreshold, first.volumeThreshold, first.windowMs, first.resetTimeoutMs],
      [0, 0, 0, 0.5, 3, 10_000, 60_000],
    );
    await c.call(() => Promise.resolve('ok'));
    // 2 failures of 3 calls: over 50 % at the volume threshold, so it opens.
    for (let i = 0; i < 2; i++) await refusal(c.call(() => Promise.reject(new Error('boom'))));
    const open = breaker.snapshot();
    assert.equal(open.state, 'open');
    assert.ok(Date.parse(open.since) >= created, 'since moved to the opening');
    assert.deepEqual([open.calls, open.successes, open.failures, open.errorRate, open.opened], [3, 1, 2, 2 / 3, 1]);
    assert.ok(open.retryAfterMs > 50_000 && open.retryAfterMs <= 60_000);
    assert.ok(isMeshkitError(await refusal(c.call(() => Promise.resolve('no'))), 'ERR_CIRCUIT_OPEN'));
    const after = breaker.snapshot();
    assert.equal(after.rejected, 1);
    assert.equal(after.calls, 3, 'refused calls are not counted');
    assertPlainJson(after);
    // Reading changes nothing.
    const { retryAfterMs: _a, ...again } = breaker.snapshot();
    const { retryAfterMs: _b, ...before } = after;
    assert.deepEqual(again, before);
    const policies = c.snapshot().policies;
    assert.deepEqual(policies.map((p) => [p.name, (p.state as { kind: string }).kind]), [['circuit-breaker', 'circuit-breaker']]);
  });

  it('bulkhead: active, queued, limits, rejections; Infinity as null', async () => {
    const bh = bulkhead({ maxConcurrent: 1, maxQueue: 1, queueTimeout: Infinity });
    const c = clientWith(bh);
    assert.deepEqual(bh.snapshot(), { kind: 'bulkhead', active: 0, queued: 0, maxConcurrent: 1, maxQueue: 1, queueTimeoutMs: null, rejected: 0 });
    const a = held();
    const running = c.call(a.fn);
    const queued = c.call(() => Promise.resolve('queued'));
    const third = await refusal(c.call(() => Promise.resolve('no')));
    assert.ok(isMeshkitError(third, 'ERR_LIMIT_EXCEEDED'));
    const busy = bh.snapshot();
    assert.deepEqual(busy, { kind: 'bulkhead', active: 1, queued: 1, maxConcurrent: 1, maxQueue: 1, queueTimeoutMs: null, rejected: 1 });
    assertPlainJson(busy);
    a.release();
    await Promise.all([running, queued]);
    assert.deepEqual([bh.snapshot().active, bh.snapshot().queued, bh.snapshot().rejected], [0, 0, 1]);
    assert.equal(bulkhead({ maxConcurrent: 2 }).snapshot().queueTimeoutMs, 1000);
  });

  it('adaptive concurrency: algorithm, limit, in flight, rejections', async () => {
    const policy = adaptiveConcurrency({ algorithm: aimd({ initialLimit: 1, minLimit: 1, maxLimit: 4 }) });
    const c = clientWith(policy);
    assert.deepEqual(policy.snapshot(), { kind: 'adaptive-concurrency', algorithm: 'aimd', limit: 1, inFlight: 0, minLimit: 1, maxLimit: 4, rejected: 0 });
    const a = held();
    const running = c.call(a.fn);
    assert.ok(isMeshkitError(await refusal(c.call(() => Promise.resolve('no'))), 'ERR_LIMIT_EXCEEDED'));
    assert.deepEqual(policy.snapshot(), { kind: 'adaptive-concurrency', algorithm: 'aimd', limit: 1, inFlight: 1, minLimit: 1, maxLimit: 4, rejected: 1 });
    a.release();
    await running;
    assert.equal(policy.snapshot().inFlight, 0);
    assertPlainJson(policy.snapshot());
  });

  it('adaptive throttle: the window read without moving it, probability, local rejections', async () => {
    const clock = new VirtualClock();
    const throttle = adaptiveThrottle({ window: '10s', buckets: 10, minRequests: 0, clock });
    const statuses = statusOutcomeTable(new Set([503]));
    const call = (): CallRecord => new CallRecord('svc', undefined, {} as CallTransport, {} as Classifier, 0, Infinity, true, true, undefined);
    const ending = (outcome: Outcome) => (c: CallContext): Promise<string> => {
      (c as CallRecord).attempts = 1;
      (c as CallRecord).current = { outcome } as unknown as Attempt;
      return Promise.resolve('response');
    };
    const ok = throttle.wrap(ending(Outcomes.success));
    const unavailable = throttle.wrap(ending(statuses[503] as Outcome));
    for (let second = 0; second < 10; second++) {
      await ok(call());
      await unavailable(call()).catch(() => undefined);
      await clock.advance(1000);
    }
    // The snapshot computes the slid window aside: it must agree with state() (which slides it) at every moment.
    for (const step of [0, 2500, 3000, 4000, 20_000]) {
      await clock.advance(step);
      const snapshot = throttle.snapshot();
      const state = throttle.state();
      assert.deepEqual([snapshot.requests, snapshot.accepts, snapshot.probability], [state.requests, state.accepts, state.probability], `after +${step} ms`);
    }
    // A peek between calls does not change what the next state() reads.
    await unavailable(call()).catch(() => undefined);
    await clock.advance(1500);
    const peek = throttle.snapshot();
    assert.deepEqual(throttle.snapshot(), peek);
    assert.deepEqual({ requests: peek.requests, accepts: peek.accepts, probability: peek.probability }, throttle.state());
    assert.deepEqual(peek, { kind: 'adaptive-throttle', requests: 1, accepts: 0, probability: 0.5, rejected: peek.rejected, k: 2, windowMs: 10_000, minRequests: 0 });
    assertPlainJson(peek);
  });

  it('adaptive throttle: counts its local rejections', async () => {
    const clock = new (class extends VirtualClock {
      override random(): number {
        return 0; // every draw is below any positive probability
      }
    })();
    const throttle = adaptiveThrottle({ minRequests: 0, clock });
    const failing = throttle.wrap((c: CallContext) => {
      (c as CallRecord).attempts = 1;
      (c as CallRecord).current = { outcome: statusOutcomeTable(new Set([503]))[503] } as unknown as Attempt;
      return Promise.resolve('503');
    });
    const call = (): CallRecord => new CallRecord('svc', undefined, {} as CallTransport, {} as Classifier, 0, Infinity, true, true, undefined);
    await failing(call()); // p becomes 1/2
    const shed = await refusal(failing(call()));
    assert.ok(isMeshkitError(shed, 'ERR_LIMIT_EXCEEDED'));
    assert.equal(throttle.snapshot().rejected, 1);
    assert.equal(throttle.snapshot().requests, 2);
  });

  it('rate limit: tokens as of now without refilling, settings, waiting, rejections', async () => {
    const clock = new VirtualClock();
    const limit = rateLimit({ rate: 10, per: '1s', burst: 2, clock });
    const c = client('snap-rate').endpoints(['127.0.0.1:9']).retry(false).clock(clock).policy(limit).build();
    clients.push(c);
    assert.deepEqual(limit.snapshot(), { kind: 'rate-limit', tokens: 2, burst: 2, rate: 10, perMs: 1000, maxWaitMs: 0, waiting: 0, rejected: 0 });
    await c.call(() => Promise.resolve('a'));
    await c.call(() => Promise.resolve('b'));
    assert.ok(isMeshkitError(await refusal(c.call(() => Promise.resolve('c'))), 'ERR_LIMIT_EXCEEDED'));
    assert.equal(limit.snapshot().tokens, 0);
    assert.equal(limit.snapshot().rejected, 1);
    await clock.advance(50);
    assert.ok(Math.abs(limit.snapshot().tokens - 0.5) < 1e-9, 'half a token accrued after 50 ms at 10/s');
    assert.ok(Math.abs(limit.tokens() - 0.5) < 1e-9, 'and the bucket agrees');
    await clock.advance(1000);
    assert.equal(limit.snapshot().tokens, 2, 'capped at burst');
    assertPlainJson(limit.snapshot());
  });

  it('fault injection: settings, injected counts, pending delays', async () => {
    const faults = faultInjection({ abort: { percent: 100, status: 503 } });
    assert.deepEqual(faults.snapshot(), {
      kind: 'fault-injection', active: true, delayPercent: 0, delayMs: 0, abortPercent: 100, abortStatus: 503, pendingDelays: 0, delays: 0, aborts: 0,
    });
    const c = clientWith(faults);
    await refusal(c.call(() => Promise.resolve('x')));
    assert.equal(faults.snapshot().aborts, 1);
    faults.close();
    assert.equal(faults.snapshot().active, false);
    const delaying = faultInjection({ delay: { percent: 100, duration: '1h' } });
    const d = clientWith(delaying);
    const pending = refusal(d.call(() => Promise.resolve('late')));
    assert.deepEqual([delaying.snapshot().pendingDelays, delaying.snapshot().delays, delaying.snapshot().abortStatus], [1, 1, null]);
    delaying.close();
    assert.ok(isMeshkitError(await pending, 'ERR_CLIENT_CLOSED'));
    assert.equal(delaying.snapshot().pendingDelays, 0);
  });

  it('fallback: what it covers and how often it ran', async () => {
    const policy = fallback(() => 'substitute');
    const c = clientWith(policy);
    assert.deepEqual(policy.snapshot?.(), { kind: 'fallback', when: 'failure', substituted: 0 });
    assert.equal(await c.call(() => Promise.reject(new Error('boom'))), 'substitute');
    assert.equal(await c.call(() => Promise.resolve('fine')), 'fine');
    assert.deepEqual(policy.snapshot?.(), { kind: 'fallback', when: 'failure', substituted: 1 });
    assert.equal(fallback(() => 1, { when: () => true }).snapshot?.()['when'], 'custom');
  });

  it('a client lists every policy outermost first, stateless ones with state undefined', () => {
    const stateless: Policy = { name: 'custom', wrap: (next) => next };
    const bh = bulkhead({ maxConcurrent: 3 });
    const c = clientWith(stateless, bh);
    const policies = c.snapshot().policies;
    assert.deepEqual(policies.map((p) => p.name), ['custom', 'bulkhead']);
    assert.equal(policies[0]?.state, undefined);
    assert.equal((policies[1]?.state as { maxConcurrent: number }).maxConcurrent, 3);
  });
});
