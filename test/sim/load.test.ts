import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SimLoop } from '../../src/sim/event-loop.js';
import { closedLoop, errorCodeOf, openLoop, type UserRequestSink } from '../../src/sim/load.js';
import { trackUnhandledRejections } from '../helpers/unhandled.js';

interface Recorded {
  start: number;
  end: number;
  error: unknown;
}

/** A sink that keeps every user request. */
function sink(name = 'test'): UserRequestSink & { readonly seen: Recorded[] } {
  const seen: Recorded[] = [];
  return { name, seen, userRequest: (start, end, error) => void seen.push({ start, end, error }) };
}

/** A call that settles `ms` of virtual time from now (rejecting with `error` when given). */
function after(loop: SimLoop, ms: number, error?: unknown): Promise<string> {
  return new Promise((resolve, reject) => loop.after(ms, () => (error === undefined ? resolve('ok') : reject(error))));
}

describe('openLoop', () => {
  it('issues Poisson arrivals at the rate: count within 5 %, exponential gaps (mean and spread), only inside its window', async () => {
    const loop = new SimLoop({ seed: 3 });
    const record = sink();
    const run = openLoop(loop, () => after(loop, 2), { record, rate: 1000, start: '500ms', duration: '10s' });
    await loop.run();
    const n = record.seen.length;
    assert.equal(run.issued, n);
    assert.equal(run.completed, n);
    assert.equal(run.inFlight, 0);
    // 10,000 expected; the standard deviation of a Poisson count is 100.
    assert.ok(Math.abs(n - 10_000) < 500, `${n} arrivals`);
    const starts = record.seen.map((r) => r.start).sort((a, b) => a - b);
    assert.ok(starts[0]! >= 500 && starts.at(-1)! < 10_500, 'all inside [start, start + duration)');
    const gaps = starts.slice(1).map((s, i) => s - starts[i]!);
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    const sd = Math.sqrt(gaps.reduce((a, g) => a + (g - mean) ** 2, 0) / gaps.length);
    assert.ok(Math.abs(mean - 1) < 0.05, `mean gap ${mean} ms`);
    // An exponential distribution has its standard deviation equal to its mean (a fixed rate would give 0).
    assert.ok(Math.abs(sd / mean - 1) < 0.1, `coefficient of variation ${sd / mean}`);
    for (const r of record.seen) assert.ok(Math.abs(r.end - r.start - 2) < 1e-9, `${r.end - r.start}`);
  });

  it('draws from its own stream: the same seed repeats the arrivals, another name gives others', async () => {
    const times = async (seed: number, name: string): Promise<number[]> => {
      const loop = new SimLoop({ seed });
      const record = sink(name);
      openLoop(loop, () => after(loop, 1), { record, rate: 200, duration: 1000 });
      await loop.run();
      return record.seen.map((r) => r.start);
    };
    assert.deepEqual(await times(9, 'a'), await times(9, 'a'));
    assert.notDeepEqual(await times(9, 'a'), await times(9, 'b'));
  });

  it('fans out: a user request ends when its last call does, succeeds only when all do, and fails with the first failure', async () => {
    const loop = new SimLoop();
    const record = sink();
    const tracker = trackUnhandledRejections();
    let call = 0;
    const failure = Object.assign(new Error('boom'), { code: 'ERR_UPSTREAM' });
    const thrown = Object.assign(new Error('sync'), { code: 'ERR_INVALID_ARGUMENT' });
    // First user request: calls of 5, 30 and 10 ms. Second: 20 ms, a failure at 3 ms, 1 ms. Third: a call that throws, then two of 1 ms.
    const target = (): Promise<string> => {
      const index = call++;
      if (index === 6) throw thrown;
      const plan = [5, 30, 10, 20, 3, 1][index] ?? 1;
      return after(loop, plan, index === 4 ? failure : undefined);
    };
    const run = closedLoop(loop, target, { record, callers: 1, fanout: 3, duration: 52 });
    await loop.run();
    tracker.stop();
    assert.deepEqual(tracker.reasons, []);
    const [first, second, third] = record.seen;
    assert.deepEqual(first, { start: 0, end: 30, error: undefined });
    assert.deepEqual(second, { start: 30, end: 50, error: failure }, 'ends with its slowest call; fails with the failure');
    assert.deepEqual(third, { start: 50, end: 51, error: thrown }, 'a call that throws fails its user request');
    assert.equal(run.issued, record.seen.length);
    assert.equal(call, record.seen.length * 3, 'three calls per user request');
  });

  it('refuses bad options with ERR_INVALID_CONFIG naming the option', () => {
    const loop = new SimLoop();
    const record = sink();
    const target = (): Promise<string> => after(loop, 1);
    assert.throws(() => openLoop(loop, target, { record, rate: 10, duration: 1, rat: 3 } as never), (e: Error & { code?: string }) =>
      e.code === 'ERR_INVALID_CONFIG' && /did you mean `rate`/.test(e.message));
    assert.throws(() => openLoop(loop, target, { record, rate: 0, duration: 1 }), { code: 'ERR_INVALID_CONFIG', message: /rate/ });
    assert.throws(() => openLoop(loop, target, { record, rate: 1 } as never), { code: 'ERR_INVALID_CONFIG', message: /duration/ });
    assert.throws(() => openLoop(loop, target, { record, rate: 1, duration: 1, fanout: 1.5 }), { code: 'ERR_INVALID_CONFIG', message: /fanout/ });
    assert.throws(() => openLoop(loop, target, { record, rate: 1, duration: 'forever' }), { code: 'ERR_INVALID_CONFIG', message: /duration/ });
    assert.throws(() => openLoop(loop, target, { record, rate: 1, duration: 1, start: -5 }), { code: 'ERR_INVALID_CONFIG', message: /start/ });
    assert.throws(() => openLoop(loop, target, { record: {} as never, rate: 1, duration: 1 }), { code: 'ERR_INVALID_CONFIG', message: /record/ });
    assert.throws(() => openLoop(loop, 'x' as never, { record, rate: 1, duration: 1 }), { code: 'ERR_INVALID_CONFIG' });
    assert.throws(() => closedLoop(loop, target, { record, callers: 0, duration: 1 }), { code: 'ERR_INVALID_CONFIG', message: /callers/ });
    assert.throws(() => closedLoop(loop, target, { record, callers: 1, duration: 1, thinkMs: -1 }), { code: 'ERR_INVALID_CONFIG', message: /thinkMs/ });
    assert.throws(() => closedLoop(loop, target, { record, callers: 1, duration: 1, think: 1 } as never), { code: 'ERR_INVALID_CONFIG', message: /thinkMs/ });
    assert.equal(loop.pending, 0, 'nothing scheduled by a refused generator');
  });

  it('fails the run, not a promise, when the sink throws', async () => {
    const loop = new SimLoop();
    const tracker = trackUnhandledRejections();
    const broken: UserRequestSink = {
      name: 'broken',
      userRequest() {
        throw new Error('sink bug');
      },
    };
    openLoop(loop, () => after(loop, 1), { record: broken, rate: 100, duration: 1000 });
    await assert.rejects(loop.run(), /sink bug/);
    await new Promise((resolve) => setImmediate(resolve));
    tracker.stop();
    assert.deepEqual(tracker.reasons, []);
  });

  it('names the error code of a failure', () => {
    assert.equal(errorCodeOf(Object.assign(new Error('x'), { code: 'ERR_TIMEOUT' })), 'ERR_TIMEOUT');
    assert.equal(errorCodeOf(new Error('x')), 'ERROR');
    assert.equal(errorCodeOf('text'), 'ERROR');
  });
});

describe('closedLoop', () => {
  it('keeps exactly N user requests in flight while it runs, with think time between them', async () => {
    const loop = new SimLoop({ seed: 5 });
    const record = sink();
    const latency = loop.random('latency');
    const run = closedLoop(loop, () => after(loop, 1 + Math.floor(latency() * 20)), { record, callers: 8, thinkMs: 0, duration: 2000 });
    const inFlight: number[] = [];
    for (let t = 25; t < 1950; t += 50) loop.at(t, () => inFlight.push(run.inFlight));
    await loop.run();
    assert.ok(inFlight.length > 30);
    for (const value of inFlight) assert.equal(value, 8);
    // Each caller: one request after the other, never two at once.
    const per = record.seen.length / 8;
    assert.ok(per > 100, `${per} requests per caller`);
    assert.ok(record.seen.every((r) => r.start < 2000));

    const thinking = new SimLoop();
    const slow = sink();
    closedLoop(thinking, () => after(thinking, 10), { record: slow, callers: 2, thinkMs: 40, duration: 1000 });
    await thinking.run();
    // A cycle is 10 ms of request and 40 of thinking: 20 per caller in 1 s.
    assert.equal(slow.seen.length, 40);
  });

  it('a failing call fails its user request, and a caller failing in no time still lets virtual time move', async () => {
    const loop = new SimLoop();
    const record = sink();
    const tracker = trackUnhandledRejections();
    closedLoop(loop, () => Promise.reject(Object.assign(new Error('refused'), { code: 'ERR_NO_ENDPOINTS' })), { record, callers: 3, duration: 100 });
    await loop.run();
    await new Promise((resolve) => setImmediate(resolve));
    tracker.stop();
    assert.deepEqual(tracker.reasons, []);
    assert.equal(record.seen.length, 300, 'one per caller per ms');
    assert.ok(record.seen.every((r) => errorCodeOf(r.error) === 'ERR_NO_ENDPOINTS'));
  });
});
