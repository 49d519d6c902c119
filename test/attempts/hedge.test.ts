// @meshkit-test isolated: measures latency under load, so it runs alone (scripts/run-tests.mjs).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { client, isMeshkitError, roundRobin, subscribe, type Endpoint } from '../../src/index.js';
import { resolveHedge } from '../../src/attempts/hedge.js';
import { LatencyWindow } from '../../src/attempts/latency-window.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import { startUpstreams } from '../helpers/upstream.js';

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

describe('LatencyWindow', () => {
  it('has no estimate before 32 samples, then the percentile of recent samples', () => {
    const window = new LatencyWindow(95);
    for (let i = 1; i <= 31; i++) window.record(i);
    assert.equal(window.value, undefined);
    window.record(32);
    assert.equal(window.value, 31); // ceil(0.95 * 32) = 31st smallest
    for (let i = 0; i < 2000; i++) window.record(i % 100); // the ring keeps the last 1024
    assert.ok(window.value !== undefined && window.value >= 93 && window.value <= 96);
  });
});

describe('hedging under a virtual clock', () => {
  const endpoints = ['127.0.0.1:1', '127.0.0.1:2', '127.0.0.1:3'];

  it('sends a hedge to another endpoint after the delay; the first answer wins and the loser is aborted', async () => {
    const clock = new VirtualClock();
    await using c = client('hedge-vc').endpoints(endpoints).balancer(roundRobin()).clock(clock).hedge({ after: '50ms' }).build();
    const seen: { endpoint: Endpoint; startedAt: number; aborted?: unknown }[] = [];
    const pending = c.call((endpoint, attempt) => {
      const entry: { endpoint: Endpoint; startedAt: number; aborted?: unknown } = { endpoint, startedAt: clock.now() };
      seen.push(entry);
      if (seen.length === 1) {
        return new Promise((_resolve, reject) => attempt.signal.addEventListener('abort', () => {
          entry.aborted = attempt.signal.reason;
          reject(new Error('cancelled'));
        }));
      }
      return new Promise((resolve) => clock.setTimeout(() => resolve(`from ${endpoint.port}`), 10));
    }, { idempotent: true });
    await clock.advance(49);
    assert.equal(seen.length, 1, 'no hedge before the delay');
    await clock.advance(1);
    assert.equal(seen.length, 2, 'a hedge at 50 ms');
    assert.notEqual(seen[1]?.endpoint.id, seen[0]?.endpoint.id, 'to another endpoint');
    await clock.advance(10);
    assert.equal(await pending, `from ${seen[1]?.endpoint.port}`);
    assert.ok(isMeshkitError(seen[0]?.aborted, 'ERR_ABORTED'), 'the loser was cancelled');
  });

  it('sends no hedge when the first attempt answers in time, or for a call that is not idempotent', async () => {
    const clock = new VirtualClock();
    await using c = client('hedge-none').endpoints(endpoints).clock(clock).hedge({ after: '50ms' }).build();
    let calls = 0;
    const quick = c.call(() => {
      calls++;
      return new Promise((resolve) => clock.setTimeout(() => resolve('ok'), 20));
    }, { idempotent: true });
    await clock.advance(200);
    assert.equal(await quick, 'ok');
    assert.equal(calls, 1);
    const slowWrite = c.call(() => {
      calls++;
      return new Promise((resolve) => clock.setTimeout(() => resolve('written'), 100));
    });
    await clock.advance(200);
    assert.equal(await slowWrite, 'written');
    assert.equal(calls, 2, 'a non-idempotent call is never hedged');
  });

  it('stops hedging when the hedge budget is spent', async () => {
    const clock = new VirtualClock();
    await using c = client('hedge-budget').endpoints(endpoints).clock(clock).retry(false).hedge({ after: '10ms', budget: 0.05 }).build();
    let attempts = 0;
    const calls = 400;
    const results: Promise<unknown>[] = [];
    for (let i = 0; i < calls; i++) {
      results.push(c.call(() => {
        attempts++;
        return new Promise((resolve) => clock.setTimeout(() => resolve(i), 30));
      }, { idempotent: true }));
    }
    await clock.advance(100);
    await Promise.all(results);
    // Floor 1/s over 10 s + 5 % of calls.
    assert.ok(attempts - calls <= 10 + 0.05 * calls, `${attempts - calls} hedges for ${calls} calls`);
    assert.ok(attempts - calls >= 10, 'the budget allowed its share');
  });

  it('the first attempt still times out on time after its hedge delay passed without a hedge', async () => {
    const clock = new VirtualClock();
    // A spent hedge budget (ratio 0.01, no floor to speak of after the first) keeps the hedge from going out.
    await using c = client('hedge-timeout').endpoints(endpoints).clock(clock).retry(false)
      .timeout({ perTry: '100ms' }).hedge({ after: '30ms', budget: 0.01 }).build();
    const hang = (_endpoint: Endpoint, attempt: { signal: AbortSignal }): Promise<never> =>
      new Promise((_resolve, reject) => attempt.signal.addEventListener('abort', () => reject(attempt.signal.reason)));
    // Spend the hedge budget's floor first (10 hedges over 10 s), so the call below hedges nothing.
    let attempts = 0;
    const spenders = Array.from({ length: 40 }, () => c.call((e, a) => {
      attempts++;
      return hang(e, a);
    }, { idempotent: true }).catch(() => undefined));
    // Hedges go out at 30 ms and time out 100 ms later: every spender has ended by 200 ms.
    await clock.advance(200);
    await Promise.all(spenders);
    const hedgesSoFar = attempts - 40;
    assert.ok(hedgesSoFar >= 1, 'some calls hedged while the budget lasted');
    const startedAt = clock.now();
    let sent = 0;
    const pending = c.call((e, a) => {
      sent++;
      return hang(e, a);
    }, { idempotent: true }).then(() => undefined, (error: unknown) => error);
    await clock.advance(99);
    assert.equal(sent, 1, 'no hedge: the budget is spent');
    await clock.advance(1);
    const error = await pending;
    assert.ok(isMeshkitError(error, 'ERR_TIMEOUT'), String(error));
    assert.equal(clock.now() - startedAt, 100, 'timed out at its per-try timeout, not later');
  });

  it('a hedged first attempt keeps its timeout: both attempts time out, each on its own schedule', async () => {
    const clock = new VirtualClock();
    await using c = client('hedge-both-time-out').endpoints(endpoints).balancer(roundRobin()).clock(clock).retry(false)
      .timeout({ perTry: '100ms' }).hedge({ after: '40ms' }).build();
    const ended: number[] = [];
    const pending = c.call((_endpoint, attempt) => new Promise((_resolve, reject) => attempt.signal.addEventListener('abort', () => {
      ended.push(clock.now());
      reject(attempt.signal.reason);
    })), { idempotent: true }).then(() => undefined, (error: unknown) => error);
    await clock.advance(40);
    await clock.advance(60);
    assert.deepEqual(ended, [100], 'the first attempt timed out at 100 ms, though its timer entry rang for the hedge at 40 ms');
    await clock.advance(40);
    assert.deepEqual(ended, [100, 140], 'the hedge (sent at 40 ms) timed out at 140 ms');
    assert.ok(isMeshkitError(await pending, 'ERR_TIMEOUT'));
  });

  it('a hedge delay at or past the per-try timeout never hedges', async () => {
    const clock = new VirtualClock();
    await using c = client('hedge-late').endpoints(endpoints).clock(clock).retry(false).timeout({ perTry: '50ms' }).hedge({ after: '50ms' }).build();
    let sent = 0;
    const pending = c.call((_endpoint, attempt) => {
      sent++;
      return new Promise((_resolve, reject) => attempt.signal.addEventListener('abort', () => reject(attempt.signal.reason)));
    }, { idempotent: true }).then(() => undefined, (error: unknown) => error);
    await clock.advance(60);
    assert.equal(sent, 1);
    assert.ok(isMeshkitError(await pending, 'ERR_TIMEOUT'));
  });

  it('rejects bad options naming them', () => {
    for (const [options, option] of [[{ after: 'p0' }, 'hedge.after'], [{ after: 'soon' }, 'hedge.after'], [{ max: 4 }, 'hedge.max'], [{ budget: 0 }, 'hedge.budget']] as const) {
      assert.throws(() => resolveHedge(options as never), (e: unknown) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === option);
    }
  });
});

describe('hedging against real servers', () => {
  it('2 % of responses 50x slower: hedging brings p99 within 3x the median, within the hedge budget', async (t) => {
    const FAST = 20;
    const SLOW = 1000;
    const ups = await startUpstreams([{}, {}, {}]);
    t.after(() => Promise.all(ups.map((u) => u.close())));
    let served = 0;
    for (const up of ups) {
      up.handler = (_req, res) => {
        // Every 50th request served is slow: 2 %, wherever it lands.
        const delay = ++served % 50 === 0 ? SLOW : FAST;
        setTimeout(() => res.writeHead(200).end('ok'), delay);
      };
    }
    const run = async (hedged: boolean): Promise<{ latencies: number[]; sent: number }> => {
      let builder = client(hedged ? 'tail-hedged' : 'tail-plain').endpoints(ups.map((u) => u.address)).balancer(roundRobin());
      if (hedged) builder = builder.hedge({ after: 'p95' });
      await using c = builder.build();
      let attempts = 0;
      const stop = subscribe('attemptStart', (a) => { if (a.call.service === c.name) attempts++; });
      const latencies: number[] = [];
      try {
        const send = async (count: number, record: boolean): Promise<void> => {
          for (let i = 0; i < count; i++) {
            const started = performance.now();
            await (await c.request({ path: '/' })).body.dump();
            if (record) latencies.push(performance.now() - started);
          }
        };
        await Promise.all(Array.from({ length: 4 }, () => send(15, false))); // warm-up: a latency estimate
        attempts = 0;
        await Promise.all(Array.from({ length: 4 }, () => send(100, true)));
        return { latencies, sent: attempts };
      } finally {
        stop();
      }
    };
    const plain = await run(false);
    const hedged = await run(true);
    const plainMedian = percentile(plain.latencies, 50);
    const hedgedMedian = percentile(hedged.latencies, 50);
    assert.ok(percentile(plain.latencies, 99) > 10 * plainMedian, `without hedging the tail is the slow responses (p99 ${percentile(plain.latencies, 99).toFixed(0)} ms)`);
    assert.ok(percentile(hedged.latencies, 99) <= 3 * hedgedMedian, `hedged p99 ${percentile(hedged.latencies, 99).toFixed(1)} ms vs median ${hedgedMedian.toFixed(1)} ms`);
    const calls = hedged.latencies.length;
    assert.ok(hedged.sent - calls <= 0.05 * (calls + 60) + 10, `${hedged.sent - calls} hedges for ${calls} calls`);
  });
});
