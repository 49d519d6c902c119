import { CallRecord } from '../../src/attempts/call-record.js';
import assert from 'node:assert/strict';
import type http from 'node:http';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { circuitBreaker, client, isMeshkitError, roundRobin, systemClock, type Classifier, type CallContext } from '../../src/index.js';
import type { CallTransport } from '../../src/core/call-transport.js';
import { bulkhead, type BulkheadPolicy } from '../../src/policies/bulkhead.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import { startUpstream } from '../helpers/upstream.js';

const noTransport = {} as CallTransport;
const noClassifier = {} as Classifier;

function makeCall(options: { deadline?: number; signal?: AbortSignal; deadlineIsCallers?: boolean } = {}): CallRecord {
  const call = new CallRecord('svc', undefined, noTransport, noClassifier, 0, options.deadline ?? Infinity, true, true, options.signal);
  call.deadlineIsCallers = options.deadlineIsCallers ?? false;
  return call;
}

/** A `next` whose calls stay pending until the test settles them, in the order they started. */
function controlledNext() {
  const started: { call: CallContext; resolve: (v: unknown) => void; reject: (e: unknown) => void }[] = [];
  const next = (call: CallContext): Promise<unknown> => new Promise((resolve, reject) => started.push({ call, resolve, reject }));
  return { started, next };
}

/** Records how a promise settled, without leaving a rejection unhandled. */
function track<T>(promise: Promise<T>) {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  promise.then((value) => Object.assign(state, { settled: true, value }), (error: unknown) => Object.assign(state, { settled: true, error }));
  return state;
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function limitOf(error: unknown): unknown {
  return isMeshkitError(error, 'ERR_LIMIT_EXCEEDED') ? error.details['limit'] : `not a limit error: ${String(error)}`;
}

describe('bulkhead options', () => {
  it('rejects bad options naming them', () => {
    for (const [options, option] of [
      [{ maxConcurrent: 0 }, 'bulkhead.maxConcurrent'],
      [{ maxConcurrent: 1.5 }, 'bulkhead.maxConcurrent'],
      [{}, 'bulkhead.maxConcurrent'],
      [{ maxConcurrent: 1, maxQueue: -1 }, 'bulkhead.maxQueue'],
      [{ maxConcurrent: 1, maxQueue: Infinity }, 'bulkhead.maxQueue'],
      [{ maxConcurrent: 1, queueTimeout: 0 }, 'bulkhead.queueTimeout'],
      [{ maxConcurrent: 1, queueTimeout: '1 fortnight' }, 'bulkhead.queueTimeout'],
      // Past Node's timer limit (2^31 - 1 ms) a timer fires at once: refused, not turned into a busy loop.
      [{ maxConcurrent: 1, queueTimeout: '1000h' }, 'bulkhead.queueTimeout'], [{ maxConcurrent: 1, queueTimeout: 2 ** 31 }, 'bulkhead.queueTimeout'],
      [{ maxConcurrent: 1, queueTimeout: -Infinity }, 'bulkhead.queueTimeout'],
      [{ maxConcurrent: 1, clock: {} }, 'bulkhead.clock'],
      [null, 'bulkhead'],
    ] as const) {
      assert.throws(() => bulkhead(options as never), (e: unknown) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === option, option);
    }
  });

  it('states its defaults', () => {
    assert.deepEqual({ ...bulkhead({ maxConcurrent: 3 }).settings }, { maxConcurrent: 3, maxQueue: 0, queueTimeoutMs: 1000 });
    assert.deepEqual({ ...bulkhead({ maxConcurrent: 3, maxQueue: 2, queueTimeout: '250ms' }).settings }, { maxConcurrent: 3, maxQueue: 2, queueTimeoutMs: 250 });
    assert.equal(bulkhead({ maxConcurrent: 1, queueTimeout: Infinity }).settings.queueTimeoutMs, Infinity);
    assert.equal(bulkhead({ maxConcurrent: 1, queueTimeout: 'Infinity' }).settings.queueTimeoutMs, Infinity, 'an explicit no-bound, as text too');
    assert.equal(bulkhead({ maxConcurrent: 1, queueTimeout: 2 ** 31 - 1 }).settings.queueTimeoutMs, 2 ** 31 - 1);
  });
});

describe('bulkhead state machine (virtual clock)', () => {
  it('admits maxConcurrent, queues maxQueue in FIFO order, rejects the rest at once', async () => {
    const clock = new VirtualClock();
    const bh = bulkhead({ maxConcurrent: 2, maxQueue: 2, queueTimeout: '10s', clock });
    const { started, next } = controlledNext();
    const invoke = bh.wrap(next);
    const calls = Array.from({ length: 6 }, () => makeCall());
    const results = calls.map((call) => track(invoke(call)));
    assert.equal(started.length, 2);
    assert.equal(bh.active, 2);
    assert.equal(bh.queued, 2);
    await flush();
    assert.equal(limitOf(results[4]?.error), 'maxQueue');
    assert.equal(limitOf(results[5]?.error), 'maxQueue');
    const error = results[4]?.error as { details: Record<string, unknown> };
    assert.deepEqual(error.details, { service: 'svc', reason: 'bulkhead', limit: 'maxQueue', maxConcurrent: 2, maxQueue: 2 });
    assert.equal(results.slice(0, 4).some((r) => r.settled), false);

    // A freed slot (success or failure) goes to the head of the queue.
    started[1]?.resolve('b');
    await flush();
    assert.equal(started.length, 3);
    assert.equal(started[2]?.call, calls[2]);
    started[0]?.reject(new Error('boom'));
    await flush();
    assert.equal(started[3]?.call, calls[3]);
    assert.equal(bh.active, 2);
    assert.equal(bh.queued, 0);
    assert.equal(results[1]?.value, 'b');
    assert.equal((results[0]?.error as Error).message, 'boom');

    started[2]?.resolve('c');
    started[3]?.resolve('d');
    await flush();
    assert.equal(results[2]?.value, 'c');
    assert.equal(results[3]?.value, 'd');
    assert.equal(bh.active, 0);
    assert.equal(clock.pendingTimers, 0);
  });

  it('without a queue, rejects with limit maxConcurrent', async () => {
    const bh = bulkhead({ maxConcurrent: 1, clock: new VirtualClock() });
    const { started, next } = controlledNext();
    const invoke = bh.wrap(next);
    const first = track(invoke(makeCall()));
    const second = track(invoke(makeCall()));
    await flush();
    assert.equal(limitOf(second.error), 'maxConcurrent');
    started[0]?.resolve(1);
    await flush();
    assert.equal(first.value, 1);
    const third = track(invoke(makeCall()));
    assert.equal(started.length, 2, 'the slot is free again');
    started[1]?.resolve(3);
    await flush();
    assert.equal(third.value, 3);
  });

  it('a queued call times out after queueTimeout with limit queueTimeout, and leaves no timer', async () => {
    const clock = new VirtualClock();
    const bh = bulkhead({ maxConcurrent: 1, maxQueue: 3, queueTimeout: 100, clock });
    const { started, next } = controlledNext();
    const invoke = bh.wrap(next);
    track(invoke(makeCall()));
    const a = track(invoke(makeCall()));
    await clock.advance(40);
    const b = track(invoke(makeCall()));
    await clock.advance(59);
    assert.equal(a.settled, false);
    await clock.advance(1);
    assert.equal(limitOf(a.error), 'queueTimeout');
    assert.equal(b.settled, false);
    assert.equal(bh.queued, 1);
    await clock.advance(40);
    assert.equal(limitOf(b.error), 'queueTimeout');
    assert.equal(bh.queued, 0);
    assert.equal(clock.pendingTimers, 0);
    assert.equal(started.length, 1, 'timed-out calls never ran');
    started[0]?.resolve('x');
    await flush();
    assert.equal(bh.active, 0);
  });

  it('uses one clock timer for many queued calls', async () => {
    const clock = new VirtualClock();
    const bh = bulkhead({ maxConcurrent: 1, maxQueue: 100, queueTimeout: 500, clock });
    const { started, next } = controlledNext();
    const invoke = bh.wrap(next);
    track(invoke(makeCall()));
    const queued = Array.from({ length: 100 }, () => track(invoke(makeCall())));
    assert.equal(clock.pendingTimers, 1);
    started[0]?.resolve(0);
    await flush();
    assert.equal(bh.queued, 99);
    await clock.advance(500);
    assert.equal(queued.slice(1).every((q) => limitOf(q.error) === 'queueTimeout'), true);
    assert.equal(clock.pendingTimers, 0);
  });

  it('the deadline bounds the wait: ERR_DEADLINE_EXCEEDED, at once when already past', async () => {
    const clock = new VirtualClock(1000);
    const bh = bulkhead({ maxConcurrent: 1, maxQueue: 2, queueTimeout: '10s', clock });
    const { next } = controlledNext();
    const invoke = bh.wrap(next);
    track(invoke(makeCall()));
    const soon = track(invoke(makeCall({ deadline: 1050 })));
    const past = track(invoke(makeCall({ deadline: 1000 })));
    await flush();
    assert.equal(isMeshkitError(past.error, 'ERR_DEADLINE_EXCEEDED'), true);
    await clock.advance(49);
    assert.equal(soon.settled, false);
    await clock.advance(1);
    assert.equal(isMeshkitError(soon.error, 'ERR_DEADLINE_EXCEEDED'), true);
    assert.equal(clock.pendingTimers, 0);
  });

  it('a deadline that runs out in the queue is never the upstream\'s: the caller\'s when it set it, else local', async () => {
    const clock = new VirtualClock(1000);
    const bh = bulkhead({ maxConcurrent: 1, maxQueue: 4, queueTimeout: '10s', clock });
    const { next } = controlledNext();
    const invoke = bh.wrap(next);
    track(invoke(makeCall()));
    const callersSoon = track(invoke(makeCall({ deadline: 1050, deadlineIsCallers: true })));
    const ownSoon = track(invoke(makeCall({ deadline: 1050 })));
    const callersPast = track(invoke(makeCall({ deadline: 1000, deadlineIsCallers: true })));
    const ownPast = track(invoke(makeCall({ deadline: 1000 })));
    await clock.advance(50);
    const blames = [callersSoon, ownSoon, callersPast, ownPast].map((r) =>
      isMeshkitError(r.error, 'ERR_DEADLINE_EXCEEDED') ? r.error.blame : `not a deadline error: ${String(r.error)}`);
    assert.deepEqual(blames, ['caller', 'local', 'caller', 'local']);
    assert.equal(bh.snapshot().rejected, 0, 'a deadline is not a bulkhead refusal');
  });

  it('an aborted queued call leaves the queue with ERR_ABORTED; the next one keeps its place', async () => {
    const clock = new VirtualClock();
    const bh = bulkhead({ maxConcurrent: 1, maxQueue: 3, clock });
    const { started, next } = controlledNext();
    const invoke = bh.wrap(next);
    track(invoke(makeCall()));
    const controller = new AbortController();
    const reason = new Error('user gave up');
    const aborted = track(invoke(makeCall({ signal: controller.signal })));
    const later = makeCall();
    const laterResult = track(invoke(later));
    controller.abort(reason);
    await flush();
    assert.equal(isMeshkitError(aborted.error, 'ERR_ABORTED'), true);
    assert.equal((aborted.error as Error).cause, reason);
    assert.equal(bh.queued, 1);
    started[0]?.resolve(0);
    await flush();
    assert.equal(started[1]?.call, later);
    started[1]?.resolve('later');
    await flush();
    assert.equal(laterResult.value, 'later');
    // Already aborted: refused without queuing.
    const busy = track(invoke(makeCall()));
    const pre = track(invoke(makeCall({ signal: AbortSignal.abort() })));
    await flush();
    assert.equal(isMeshkitError(pre.error, 'ERR_ABORTED'), true);
    assert.equal(busy.settled, false);
    started[2]?.resolve(0);
    await flush();
    assert.equal(bh.active, 0);
    assert.equal(clock.pendingTimers, 0);
  });

  it('releases the slot when next throws synchronously', async () => {
    const bh = bulkhead({ maxConcurrent: 1 });
    const invoke = bh.wrap(() => {
      throw new Error('sync');
    });
    await assert.rejects(invoke(makeCall()), /sync/);
    assert.equal(bh.active, 0);
  });

  it('close() rejects queued calls with ERR_CLIENT_CLOSED and clears the timer', async () => {
    const clock = new VirtualClock();
    const bh: BulkheadPolicy = bulkhead({ maxConcurrent: 1, maxQueue: 5, clock });
    const { started, next } = controlledNext();
    const invoke = bh.wrap(next);
    const running = track(invoke(makeCall()));
    const queued = [track(invoke(makeCall())), track(invoke(makeCall()))];
    bh.close();
    bh.close();
    await flush();
    assert.equal(queued.every((q) => isMeshkitError(q.error, 'ERR_CLIENT_CLOSED')), true);
    assert.equal(clock.pendingTimers, 0);
    const refused = track(invoke(makeCall()));
    await flush();
    assert.equal(isMeshkitError(refused.error, 'ERR_CLIENT_CLOSED'), true);
    started[0]?.resolve('done');
    await flush();
    assert.equal(running.value, 'done');
    assert.equal(bh.active, 0);
  });

  it('never exceeds its limits, starts calls in arrival order, and leaves nothing behind (property)', async () => {
    type Step = { kind: 'arrive'; deadline: number | undefined } | { kind: 'finish'; which: number; ok: boolean } | { kind: 'advance'; ms: number };
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.record({ kind: fc.constant('arrive' as const), deadline: fc.option(fc.integer({ min: 0, max: 300 }), { nil: undefined }) }),
      fc.record({ kind: fc.constant('finish' as const), which: fc.nat(), ok: fc.boolean() }),
      fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 150 }) }),
    );
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 3 }), fc.array(step, { maxLength: 40 }),
      async (maxConcurrent, maxQueue, steps) => {
        const clock = new VirtualClock();
        const bh = bulkhead({ maxConcurrent, maxQueue, queueTimeout: 100, clock });
        const { started, next } = controlledNext();
        const invoke = bh.wrap(next);
        const order = new Map<CallContext, number>();
        const running: typeof started = [];
        let seen = 0;
        const results: ReturnType<typeof track>[] = [];
        const collect = (): void => {
          for (; seen < started.length; seen++) running.push(started[seen] as (typeof started)[number]);
        };
        for (const s of steps) {
          if (s.kind === 'arrive') {
            const call = makeCall({ deadline: s.deadline === undefined ? Infinity : clock.now() + s.deadline });
            order.set(call, order.size);
            results.push(track(invoke(call)));
          } else if (s.kind === 'finish' && running.length > 0) {
            const [entry] = running.splice(s.which % running.length, 1);
            if (s.ok) entry?.resolve('ok');
            else entry?.reject(new Error('failed'));
          } else if (s.kind === 'advance') await clock.advance(s.ms);
          await flush();
          collect();
          assert.ok(bh.active <= maxConcurrent);
          assert.ok(bh.queued <= maxQueue);
          assert.equal(bh.active, running.length);
        }
        const starts = started.map((e) => order.get(e.call) as number);
        assert.deepEqual(starts, [...starts].sort((x, y) => x - y), 'calls start in arrival order');
        for (let i = 0; i < 100 && (running.length > 0 || bh.queued > 0); i++) {
          for (const entry of running.splice(0)) entry.resolve('ok');
          await flush();
          collect();
          if (running.length === 0 && bh.queued > 0) await clock.advance(100);
          collect();
        }
        assert.equal(bh.active, 0);
        assert.equal(bh.queued, 0);
        for (const r of results) {
          assert.ok(r.settled, 'every call settles');
          if (r.error !== undefined) {
            assert.ok(isMeshkitError(r.error, 'ERR_LIMIT_EXCEEDED') || isMeshkitError(r.error, 'ERR_DEADLINE_EXCEEDED') || (r.error as Error).message === 'failed');
          }
        }
        assert.equal(clock.pendingTimers, 0);
      },
    ), { numRuns: 150 });
  });
});

describe('bulkhead with a real client and a slow upstream', () => {
  it('admits exactly maxConcurrent in flight plus the queue, and rejects the rest before any completes', async (t) => {
    const upstream = await startUpstream();
    t.after(() => upstream.close());
    let inFlight = 0;
    let peak = 0;
    upstream.handler = (_req: http.IncomingMessage, res: http.ServerResponse) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      setTimeout(() => {
        inFlight--;
        res.end('slow');
      }, 300);
    };
    const bh = bulkhead({ maxConcurrent: 4, maxQueue: 2, queueTimeout: '10s' });
    await using c = client('bulkhead-it').endpoints([upstream.address]).balancer(roundRobin()).policy(bh).build();
    const settled: string[] = [];
    const calls = Array.from({ length: 10 }, () => c.request({ path: '/' }).then(
      async (res) => {
        settled.push(`ok ${res.statusCode}`);
        await res.body.dump();
      },
      (error: unknown) => {
        settled.push(`rejected ${String(limitOf(error))}`);
      },
    ));
    await Promise.all(calls);
    assert.deepEqual(settled.slice(0, 4), Array(4).fill('rejected maxQueue'), 'the excess is rejected before any call completes');
    assert.deepEqual(settled.slice(4), Array(6).fill('ok 200'));
    assert.equal(peak, 4, 'never more than maxConcurrent at the upstream');
    assert.equal(upstream.requests.length, 6);
    assert.equal(bh.active, 0);
    assert.equal(bh.queued, 0);
  });

  it('without a queue it runs as the client\'s admission gate: the excess is refused unsent, and slots come back', async (t) => {
    const upstream = await startUpstream({ delayMs: 200 });
    t.after(() => upstream.close());
    const bh = bulkhead({ maxConcurrent: 2 });
    assert.notEqual(bh.admission?.({ clock: systemClock }), undefined, 'maxQueue 0 offers a gate');
    await using c = client('bulkhead-gate-it').endpoints([upstream.address]).retry(false).policy(bh).build();
    const first = [c.request({ path: '/' }), c.request({ path: '/' })];
    assert.equal(bh.active, 2);
    await assert.rejects(c.request({ path: '/' }), (e: unknown) => limitOf(e) === 'maxConcurrent');
    for (const res of await Promise.all(first)) await res.body.dump();
    assert.equal(bh.active, 0, 'both slots released when the calls settled');
    assert.equal(upstream.requests.length, 2, 'the refused call was never sent');
    const res = await c.request({ path: '/' });
    await res.body.dump();
    assert.equal(res.statusCode, 200);
    assert.equal(bh.snapshot().rejected, 1);
  });

  it('callers whose own short deadline runs out in the queue do not open an outer breaker on a healthy upstream', async (t) => {
    const upstream = await startUpstream({ delayMs: 300 });
    t.after(() => upstream.close());
    const breaker = circuitBreaker({ volumeThreshold: 5, errorThreshold: 0.5 });
    await using c = client('bulkhead-blame-it').endpoints([upstream.address]).timeout({ total: '10s' })
      .policy(breaker).policy(bulkhead({ maxConcurrent: 1, maxQueue: 10 })).build();
    const holding = c.request({ path: '/' });
    const impatient = await Promise.all(Array.from({ length: 6 }, () => c.request({ path: '/', timeout: 50 }).then(
      (res) => `status ${res.statusCode}`,
      (error: unknown) => isMeshkitError(error) ? `${error.code} ${error.blame}` : String(error),
    )));
    assert.deepEqual(impatient, Array(6).fill('ERR_DEADLINE_EXCEEDED caller'));
    await (await holding).body.dump();
    assert.equal(breaker.state, 'closed');
    const res = await c.request({ path: '/' });
    await res.body.dump();
    assert.equal(res.statusCode, 200, 'the healthy upstream is still reachable');
    assert.equal(upstream.requests.length, 2, 'the impatient calls were never sent');
  });

  it('a queued call gives up after queueTimeout while the upstream is slow', async (t) => {
    const upstream = await startUpstream({ delayMs: 1500 });
    t.after(() => upstream.close());
    const bh = bulkhead({ maxConcurrent: 1, maxQueue: 1, queueTimeout: '100ms' });
    await using c = client('bulkhead-timeout-it').endpoints([upstream.address]).policy(bh).build();
    const first = c.request({ path: '/' });
    const started = performance.now();
    await assert.rejects(c.request({ path: '/' }), (e: unknown) => limitOf(e) === 'queueTimeout');
    const waited = performance.now() - started;
    assert.ok(waited >= 95 && waited < 1400, `waited ${waited} ms`);
    const res = await first;
    await res.body.dump();
    assert.equal(upstream.requests.length, 1);
  });
});
