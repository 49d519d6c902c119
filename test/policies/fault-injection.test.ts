import { CallRecord } from '../../src/attempts/call-record.js';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { client, isMeshkitError, type HttpResponse, type CallContext } from '../../src/index.js';
import type { CallTransport } from '../../src/core/call-transport.js';
import { fallback } from '../../src/policies/fallback.js';
import { staticResponse } from '../../src/policies/fallback-response.js';
import { faultInjection, FAULT_INJECTED, type FaultInjectionOptions } from '../../src/policies/fault-injection.js';
import { functionClassifier, functionTransport } from '../../src/transports/function.js';
import { httpClassifier } from '../../src/transports/http-classifier.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

const noTransport: CallTransport = { send: () => Promise.reject(new Error('unused')), discard: () => {} };

function httpCall(clock: VirtualClock, options: { deadline?: number; signal?: AbortSignal } = {}): CallRecord {
  const now = clock.now();
  return new CallRecord('svc', { path: '/' }, noTransport, httpClassifier([503]), now, options.deadline ?? Infinity, true, true, options.signal);
}

function fnCall(clock: VirtualClock): CallRecord {
  return new CallRecord('svc', () => 'x', functionTransport, functionClassifier, clock.now(), Infinity, true, true, undefined);
}

/** An inner pipeline that records when it was reached. */
function recorder(clock: VirtualClock): { reached: number[]; next: (call: CallContext) => Promise<string> } {
  const reached: number[] = [];
  return { reached, next: async () => (reached.push(clock.now()), 'sent') };
}

function settled(promise: Promise<unknown>): { done: boolean; value?: unknown; error?: unknown } {
  const state: { done: boolean; value?: unknown; error?: unknown } = { done: false };
  promise.then((value) => Object.assign(state, { done: true, value }), (error: unknown) => Object.assign(state, { done: true, error }));
  return state;
}

describe('faultInjection', () => {
  it('is off unless configured: passes calls through and draws nothing', async () => {
    const clock = new VirtualClock();
    let draws = 0;
    const random = clock.random.bind(clock);
    clock.random = () => (draws++, random());
    const { reached, next } = recorder(clock);
    const invoke = faultInjection({ clock }).wrap(next);
    for (let i = 0; i < 10; i++) assert.equal(await invoke(httpCall(clock)), 'sent');
    assert.equal(reached.length, 10);
    assert.equal(draws, 0);
    assert.equal(clock.pendingTimers, 0);
  });

  it('aborts a share of calls converging to the percentage (property, virtual clock randomness)', async () => {
    await fc.assert(fc.asyncProperty(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 1, max: 2 ** 31 }), async (percent, seed) => {
      const clock = new VirtualClock(0, seed);
      const { reached, next } = recorder(clock);
      const invoke = faultInjection({ abort: { percent }, clock }).wrap(next);
      const n = 1_000;
      let aborted = 0;
      for (let i = 0; i < n; i++) {
        try {
          await invoke(httpCall(clock));
        } catch (error) {
          assert.ok(isMeshkitError(error, FAULT_INJECTED));
          aborted++;
        }
      }
      assert.equal(reached.length + aborted, n);
      const p = percent / 100;
      const tolerance = 5 * Math.sqrt((p * (1 - p)) / n); // 5 sigma
      assert.ok(Math.abs(aborted / n - p) <= tolerance, `${aborted}/${n} aborted for ${percent} %`);
    }), { numRuns: 15 });
  });

  it('delays a share of calls converging to the percentage (property)', async () => {
    await fc.assert(fc.asyncProperty(fc.integer({ min: 1, max: 99 }), fc.integer({ min: 1, max: 2 ** 31 }), async (percent, seed) => {
      const clock = new VirtualClock(0, seed);
      const { reached, next } = recorder(clock);
      const invoke = faultInjection({ delay: { percent, duration: 10 }, clock }).wrap(next);
      const n = 400;
      const calls = Array.from({ length: n }, () => invoke(httpCall(clock)));
      await clock.advance(0);
      const immediate = reached.length;
      assert.equal(clock.pendingTimers, n - immediate);
      await clock.advance(10);
      await Promise.all(calls);
      assert.equal(reached.length, n);
      assert.equal(clock.pendingTimers, 0);
      const p = percent / 100;
      const delayedShare = (n - immediate) / n;
      assert.ok(Math.abs(delayedShare - p) <= 5 * Math.sqrt((p * (1 - p)) / n), `${n - immediate}/${n} delayed for ${percent} %`);
    }), { numRuns: 10 });
  });

  it('fires a delay at the right time and leaves nothing behind', async () => {
    const clock = new VirtualClock(1_000);
    const { reached, next } = recorder(clock);
    const state = settled(faultInjection({ delay: { percent: 100, duration: '200ms' }, clock }).wrap(next)(httpCall(clock)));
    await clock.advance(199);
    assert.deepEqual(reached, []);
    assert.equal(state.done, false);
    await clock.advance(1);
    assert.deepEqual(reached, [1_200]);
    assert.equal(state.value, 'sent');
    assert.equal(clock.pendingTimers, 0);
  });

  it('ends a delay that crosses the deadline at the deadline with ERR_DEADLINE_EXCEEDED', async () => {
    const clock = new VirtualClock();
    const { reached, next } = recorder(clock);
    const state = settled(faultInjection({ delay: { percent: 100, duration: '1s' }, clock }).wrap(next)(httpCall(clock, { deadline: 300 })));
    await clock.advance(299);
    assert.equal(state.done, false);
    await clock.advance(1);
    assert.ok(isMeshkitError(state.error, 'ERR_DEADLINE_EXCEEDED'));
    assert.deepEqual(reached, []);
    assert.equal(clock.pendingTimers, 0);
  });

  it('blames a delay crossing the deadline as a slow upstream would be: the caller when it chose the deadline, else the upstream', async () => {
    for (const callers of [true, false]) {
      const clock = new VirtualClock();
      const { next } = recorder(clock);
      const call = httpCall(clock, { deadline: 300 });
      call.deadlineIsCallers = callers;
      const state = settled(faultInjection({ delay: { percent: 100, duration: '1s' }, clock }).wrap(next)(call));
      await clock.advance(300);
      assert.ok(isMeshkitError(state.error, 'ERR_DEADLINE_EXCEEDED'));
      assert.equal(state.error.blame, callers ? 'caller' : 'upstream');
    }
  });

  it('ends a delay at once when the caller aborts, and removes its listener', async () => {
    const clock = new VirtualClock();
    const { reached, next } = recorder(clock);
    const controller = new AbortController();
    const state = settled(faultInjection({ delay: { percent: 100, duration: '1s' }, clock }).wrap(next)(httpCall(clock, { signal: controller.signal })));
    await clock.advance(100);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 1);
    const reason = new Error('gave up');
    controller.abort(reason);
    await clock.advance(0);
    assert.ok(isMeshkitError(state.error, 'ERR_ABORTED'));
    assert.equal((state.error as Error).cause, reason);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
    assert.equal(clock.pendingTimers, 0);
    assert.deepEqual(reached, []);
    // Already aborted: refused before any timer.
    await assert.rejects(faultInjection({ delay: { percent: 100, duration: '1s' }, clock }).wrap(next)(httpCall(clock, { signal: controller.signal })),
      (e) => isMeshkitError(e, 'ERR_ABORTED'));
    assert.equal(clock.pendingTimers, 0);
  });

  it('close() ends pending delays with ERR_CLIENT_CLOSED and injects nothing afterwards', async () => {
    const clock = new VirtualClock();
    const { reached, next } = recorder(clock);
    const policy = faultInjection({ delay: { percent: 100, duration: '1s' }, abort: { percent: 100 }, clock });
    const invoke = policy.wrap(next);
    const state = settled(invoke(httpCall(clock)));
    await clock.advance(10);
    policy.close();
    await clock.advance(0);
    assert.ok(isMeshkitError(state.error, 'ERR_CLIENT_CLOSED'));
    assert.equal(clock.pendingTimers, 0);
    assert.equal(await invoke(httpCall(clock)), 'sent');
    assert.equal(reached.length, 1);
  });

  it('applies the delay before the abort (Envoy order)', async () => {
    const clock = new VirtualClock();
    const { reached, next } = recorder(clock);
    const state = settled(faultInjection({ delay: { percent: 100, duration: 50 }, abort: { percent: 100 }, clock }).wrap(next)(httpCall(clock)));
    await clock.advance(49);
    assert.equal(state.done, false);
    await clock.advance(1);
    assert.ok(isMeshkitError(state.error, FAULT_INJECTED));
    assert.deepEqual(reached, []);
  });

  it('answers HTTP calls with a synthetic status; function calls reject with the status in details', async () => {
    const clock = new VirtualClock();
    const { reached, next } = recorder(clock);
    const invoke = faultInjection({ abort: { percent: 100, status: 503 }, clock }).wrap(next as never) as (call: CallContext) => Promise<HttpResponse>;
    const res = await invoke(httpCall(clock));
    assert.equal(res.statusCode, 503);
    assert.equal(res.headers['x-meshkit-fault'], 'abort');
    assert.equal(await res.body.text(), 'fault injected');
    await assert.rejects(invoke(fnCall(clock)), (e) => isMeshkitError(e, FAULT_INJECTED) && e.details['status'] === 503);
    assert.deepEqual(reached, []);
  });

  it('rejects with a configured error or the error a function returns', async () => {
    const clock = new VirtualClock();
    const { next } = recorder(clock);
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    await assert.rejects(faultInjection({ abort: { percent: 100, error: refused }, clock }).wrap(next)(httpCall(clock)), (e) => e === refused);
    await assert.rejects(
      faultInjection({ abort: { percent: 100, error: (call) => new Error(`fault for ${call.service}`) }, clock }).wrap(next)(httpCall(clock)),
      /fault for svc/,
    );
  });

  it('leaves calls alone when enabled() says no, and rejects when it throws', async () => {
    const clock = new VirtualClock();
    const { reached, next } = recorder(clock);
    const invoke = faultInjection({ abort: { percent: 100 }, enabled: (call) => call.hashKey === 'chaos', clock }).wrap(next);
    assert.equal(await invoke(httpCall(clock)), 'sent');
    const chaos = new CallRecord('svc', { path: '/' }, noTransport, httpClassifier([]), 0, Infinity, true, true, undefined, 'chaos');
    await assert.rejects(invoke(chaos), (e) => isMeshkitError(e, FAULT_INJECTED));
    const broken = faultInjection({ abort: { percent: 100 }, enabled: () => {
      throw new Error('bad predicate');
    }, clock }).wrap(next);
    await assert.rejects(broken(httpCall(clock)), /bad predicate/);
    assert.equal(reached.length, 1);
  });

  it('rejects bad configuration naming the option', () => {
    const cases: [unknown, string][] = [
      [null, 'faultInjection'],
      [{ delay: { percent: 101, duration: 1 } }, 'faultInjection.delay.percent'],
      [{ delay: { percent: 10 } }, 'faultInjection.delay.duration'],
      [{ delay: { percent: 10, duration: 'soon' } }, 'faultInjection.delay.duration'],
      [{ delay: 5 }, 'faultInjection.delay'],
      [{ abort: { percent: -1 } }, 'faultInjection.abort.percent'],
      [{ abort: { percent: '50' } }, 'faultInjection.abort.percent'],
      [{ abort: { percent: 50, status: 99 } }, 'faultInjection.abort.status'],
      [{ abort: { percent: 50, error: 'boom' } }, 'faultInjection.abort.error'],
      [{ abort: { percent: 50, status: 503, error: new Error('x') } }, 'faultInjection.abort'],
      [{ enabled: true }, 'faultInjection.enabled'],
      [{ clock: {} }, 'faultInjection.clock'],
    ];
    for (const [options, option] of cases) {
      assert.throws(() => faultInjection(options as FaultInjectionOptions), (e: unknown) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === option, option);
    }
  });
});

describe('fault injection with a real client', () => {
  let upstream: Upstream;
  before(async () => {
    upstream = await startUpstream();
  });
  after(async () => {
    await upstream.close();
  });

  it('aborts about half of the calls at 50 % without reaching the server', async () => {
    const policy = faultInjection({ abort: { percent: 50 }, clock: new VirtualClock(0, 7) });
    await using c = client('fault-abort').endpoints([upstream.address]).policy(policy).build();
    const before = upstream.requests.length;
    const n = 400;
    let failures = 0;
    for (let i = 0; i < n; i++) {
      try {
        const res = await c.request({ path: '/' });
        assert.equal(res.statusCode, 200);
        await res.body.dump();
      } catch (error) {
        assert.ok(isMeshkitError(error, FAULT_INJECTED));
        failures++;
      }
    }
    const reached = upstream.requests.length - before;
    assert.equal(reached, n - failures, 'aborted calls never reached the server');
    assert.ok(failures > 140 && failures < 260, `${failures}/${n} failed (expected ~200, 6 sigma bounds)`);
  });

  it('a synthetic 503 from an inner fault reaches an outer fallback', async () => {
    await using c = client('fault-fallback').endpoints([upstream.address])
      .policy(fallback<HttpResponse>(() => staticResponse(200, 'degraded')))
      .policy(faultInjection({ abort: { percent: 100, status: 503 } }))
      .build();
    const before = upstream.requests.length;
    const res = await c.request({ path: '/' });
    assert.equal(res.statusCode, 200);
    assert.equal(await res.body.text(), 'degraded');
    assert.equal(upstream.requests.length, before);
  });

  it('delays real calls and honours the call deadline', async () => {
    await using c = client('fault-delay').endpoints([upstream.address])
      .policy(faultInjection({ delay: { percent: 100, duration: '30ms' } })).build();
    const started = performance.now();
    const res = await c.request({ path: '/' });
    await res.body.dump();
    assert.ok(performance.now() - started >= 29, 'waited the injected delay');
    const before = upstream.requests.length;
    const slow = performance.now();
    const long = client('fault-delay-long').endpoints([upstream.address])
      .policy(faultInjection({ delay: { percent: 100, duration: '10s' } })).build();
    try {
      await assert.rejects(long.request({ path: '/', timeout: '50ms' }), (e) => isMeshkitError(e, 'ERR_DEADLINE_EXCEEDED'));
      assert.ok(performance.now() - slow < 5_000, 'ended at the deadline, not after the 10 s delay');
      assert.equal(upstream.requests.length, before, 'the call never left');
    } finally {
      await long.close();
    }
  });
});
