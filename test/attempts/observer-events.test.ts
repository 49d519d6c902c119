import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { client, type CallContext, type CallObserverFactory } from '../../src/index.js';
import { guardedObserver } from '../../src/core/guarded-observer.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';

const ENDPOINTS = ['127.0.0.1:1', '127.0.0.1:2', '127.0.0.1:3'];

/** An observer that writes every hook it sees, in order, into `events`. */
function recorder(events: string[]): CallObserverFactory {
  return {
    name: 'recorder',
    create: () => ({
      callStart: () => { events.push('callStart'); },
      attemptStart: (attempt) => { events.push(`attemptStart ${attempt.number}`); },
      attemptEnd: (attempt) => { events.push(`attemptEnd ${attempt.number} ${attempt.outcome?.reason}`); },
      hedgeStart: (_call, hedges) => { events.push(`hedgeStart ${hedges}`); },
      retryBudgetExhausted: (call) => { events.push(`retryBudgetExhausted after ${call.attempts}`); },
      callEnd: (call, error) => {
        // The executor no longer reports through untyped keys: nothing lands in the caller's annotations.
        events.push(`callEnd ${error === undefined ? 'ok' : 'error'} ${JSON.stringify(call.attributes)}`);
      },
    }),
  };
}

describe('typed observer events', () => {
  it('hedgeStart comes right before the hedge\'s attemptStart, counting the call\'s hedges', async () => {
    const clock = new VirtualClock();
    const events: string[] = [];
    await using c = client('events-hedge').endpoints(ENDPOINTS).clock(clock).hedge({ after: '50ms', max: 2, budget: 1 })
      .retry(false).telemetry(recorder(events)).build();
    let started = 0;
    const pending = c.call((endpoint) => {
      started++;
      // Only the third attempt (the second hedge) answers, 10 ms after it starts.
      if (started < 3) return new Promise<string>(() => {});
      return new Promise<string>((resolve) => clock.setTimeout(() => resolve(`from ${endpoint.port}`), 10));
    }, { idempotent: true });
    await clock.advance(50);
    await clock.advance(50);
    await clock.advance(10);
    assert.match(await pending, /^from \d+$/);
    assert.deepEqual(events.slice(0, 6), ['callStart', 'attemptStart 1', 'hedgeStart 1', 'attemptStart 2', 'hedgeStart 2', 'attemptStart 3']);
    assert.equal(events.at(-1), 'callEnd ok {}');
    assert.equal(events.filter((e) => e.startsWith('hedgeStart')).length, 2);
  });

  it('retryBudgetExhausted fires once when the budget refuses a due retry, and the call ends with its last result', async () => {
    const clock = new VirtualClock();
    const events: string[] = [];
    // A budget of no retries at all: the first retry that is due is refused.
    await using c = client('events-budget').endpoints(ENDPOINTS).clock(clock)
      .retry({ attempts: 3, budget: { ratio: 0, minPerSecond: 0 } }).telemetry(recorder(events)).build();
    await assert.rejects(c.call(() => Promise.reject(Object.assign(new Error('reset'), { code: 'ECONNRESET' })), { idempotent: true }),
      (e: unknown) => (e as { code?: string }).code === 'ERR_UPSTREAM');
    assert.deepEqual(events, [
      'callStart', 'attemptStart 1', 'attemptEnd 1 reset', 'retryBudgetExhausted after 1', 'callEnd error {}',
    ]);
  });

  it('a call with retries left in its budget never sees retryBudgetExhausted', async () => {
    const clock = new VirtualClock();
    const events: string[] = [];
    await using c = client('events-retry').endpoints(ENDPOINTS).clock(clock).retry({ attempts: 2, backoff: { base: '1ms', cap: '1ms' } })
      .telemetry(recorder(events)).build();
    let n = 0;
    const pending = c.call(() => (++n === 1 ? Promise.reject(Object.assign(new Error('reset'), { code: 'ECONNRESET' })) : Promise.resolve('ok')), { idempotent: true });
    await clock.advance(5);
    assert.equal(await pending, 'ok');
    assert.deepEqual(events.filter((e) => e.startsWith('retryBudget') || e.startsWith('hedge')), []);
    assert.deepEqual(events.filter((e) => e.startsWith('attemptStart')), ['attemptStart 1', 'attemptStart 2']);
  });

  it('guardedObserver combines the new hooks in order and keeps a throwing one from breaking the others', () => {
    const seen: string[] = [];
    const combined = guardedObserver([
        { name: 'broken', observer: { hedgeStart: () => { throw new Error('boom'); }, retryBudgetExhausted: () => { throw new Error('boom'); } } },
        { name: 'fine', observer: { hedgeStart: (_call, hedges) => { seen.push(`hedge ${hedges}`); }, retryBudgetExhausted: () => { seen.push('budget'); } } },
      ]);
    const call = {} as CallContext;
    combined?.hedgeStart?.(call, 1);
    combined?.retryBudgetExhausted?.(call);
    assert.deepEqual(seen, ['hedge 1', 'budget']);
    assert.equal(guardedObserver([{ name: 'none', observer: {} }])?.hedgeStart, undefined, 'no hook when no observer has one');
  });
});
