import assert from 'node:assert/strict';
import type http from 'node:http';
import { describe, it } from 'node:test';
import { client, isMeshkitError, systemClock } from '../../src/index.js';
import { RetryBudget, resolveRetryBudget } from '../../src/attempts/retry-budget.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

/**
 * One retry per 10 s; the backoff is `jitter.random` of 2 s (0.99 by default:
 * ~2 s, long enough for a test to act during it).
 */
function budgetedClient(upstream: Upstream, name: string) {
  const jitter = { random: 0.99 };
  const c = client(name).endpoints([upstream.address])
    .retry({ attempts: 2, backoff: { base: '2s', cap: '2s' }, budget: { ratio: 0, minPerSecond: 0.1, ttl: '10s' } })
    .clock({ ...systemClock, random: () => jitter.random })
    .build();
  return { c, jitter };
}

/** Resolves once the upstream has received `count` requests. */
async function requestsReached(upstream: Upstream, count: number): Promise<void> {
  while (upstream.requests.length < count) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** Answers 503 to the first `failures` requests, then 200. */
function failFirst(upstream: Upstream, failures: number): void {
  let seen = 0;
  upstream.handler = (_req: http.IncomingMessage, res: http.ServerResponse) => {
    res.statusCode = ++seen <= failures ? 503 : 200;
    res.end('x');
  };
}

describe('RetryBudget.canRetry', () => {
  it('says whether a retry is left without taking it', () => {
    const budget = new RetryBudget(resolveRetryBudget({ ratio: 0, minPerSecond: 0.2, ttl: '10s' })); // 2 retries
    assert.equal(budget.canRetry(0), true);
    assert.equal(budget.canRetry(0), true);
    assert.equal(budget.remaining(0), 2, 'asking spends nothing');
    assert.equal(budget.tryRetry(0), true);
    assert.equal(budget.canRetry(0), true);
    assert.equal(budget.tryRetry(0), true);
    assert.equal(budget.canRetry(0), false);
    assert.equal(budget.tryRetry(0), false);
    assert.equal(budget.canRetry(11_000), true, 'the window passed');
  });
});

describe('retry loop and the retry budget', () => {
  it('a caller abort during the backoff spends no retry: the next call still gets its retry', async (t) => {
    const upstream = await startUpstream();
    t.after(() => upstream.close());
    failFirst(upstream, 1);
    const { c, jitter } = budgetedClient(upstream, 'budget-abort');
    t.after(() => c.close());
    assert.equal(c.snapshot().retryBudgetRemaining, 1);
    const controller = new AbortController();
    const call = c.request({ path: '/', signal: controller.signal });
    await requestsReached(upstream, 1); // its 503 came back: the call is in its ~2 s backoff
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort(new Error('caller gave up'));
    await assert.rejects(call, (e: unknown) => isMeshkitError(e, 'ERR_ABORTED'));
    assert.equal(upstream.requests.length, 1, 'the retry never happened');
    assert.equal(c.snapshot().retryBudgetRemaining, 1, 'so it cost no budget');

    failFirst(upstream, 1);
    jitter.random = 0.001; // a 2 ms backoff this time
    const res = await c.request({ path: '/' });
    await res.body.dump();
    assert.equal(res.statusCode, 200, 'the 503 was retried');
    assert.equal(upstream.requests.length, 3);
    assert.equal(c.snapshot().retryBudgetRemaining, 0);
  });

  it('a close during the backoff spends no retry', async (t) => {
    const upstream = await startUpstream({ status: 503 });
    t.after(() => upstream.close());
    const { c } = budgetedClient(upstream, 'budget-close');
    const call = c.request({ path: '/' }).then(async (res) => {
      await res.body.dump();
      return res.statusCode;
    }, (error: unknown) => (isMeshkitError(error) ? error.code : String(error)));
    await requestsReached(upstream, 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await c.close();
    assert.equal(await call, 503, 'the call ends with its last answer, not retried');
    assert.equal(upstream.requests.length, 1);
    assert.equal(c.snapshot().retryBudgetRemaining, 1);
  });

  it('a spent budget still ends the call at once, without sleeping the backoff', async (t) => {
    const upstream = await startUpstream({ status: 503 });
    t.after(() => upstream.close());
    const { c, jitter } = budgetedClient(upstream, 'budget-spent');
    t.after(() => c.close());
    jitter.random = 0.001;
    const first = await c.request({ path: '/' });
    await first.body.dump();
    assert.equal(upstream.requests.length, 2, 'the first call spent the one retry');
    jitter.random = 0.99; // a retry would sleep ~2 s first
    const started = performance.now();
    const second = await c.request({ path: '/' });
    await second.body.dump();
    const elapsed = performance.now() - started;
    assert.equal(second.statusCode, 503);
    assert.equal(upstream.requests.length, 3, 'not retried');
    assert.ok(elapsed < 1000, `answered in ${elapsed} ms, not after a ~2 s backoff`);
  });
});

describe('hedging and the retry budget', () => {
  // Hedging.mayHedge checks its own budget (canRetry) before the retry budget spends, and takes its token last.
  it('a hedge the retry budget refuses spends no hedge-budget token', async (t) => {
    const slowOr503 = (upstream: Upstream): void => {
      upstream.handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
        if (req.url === '/503') {
          res.statusCode = 503;
          res.end();
        } else setTimeout(() => res.end('ok'), 100);
      };
    };
    const ups = await Promise.all([startUpstream(), startUpstream()]);
    t.after(() => Promise.all(ups.map((u) => u.close())));
    ups.forEach(slowOr503);
    await using c = client('hedge-budget').endpoints(ups.map((u) => u.address))
      .retry({ attempts: 2, backoff: { base: 1, cap: 1 }, budget: { ratio: 0, minPerSecond: 0.1, ttl: '10s' } })
      .hedge({ after: '20ms' })
      .build();
    const spend = await c.request({ path: '/503' }); // its retry takes the one retry token
    await spend.body.dump();
    assert.equal(c.snapshot().retryBudgetRemaining, 0);
    const hedgeBefore = c.snapshot().hedgeBudgetRemaining as number;
    const sentBefore = ups.reduce((n, u) => n + u.requests.length, 0);
    for (let i = 0; i < 5; i++) await (await c.request({ path: '/slow' })).body.dump();
    assert.equal(ups.reduce((n, u) => n + u.requests.length, 0) - sentBefore, 5, 'no hedge went out: the retry budget is spent');
    assert.ok((c.snapshot().hedgeBudgetRemaining as number) >= hedgeBefore, 'and the hedge budget paid for none');
  });
});

describe('what the retry and hedge budgets count as calls', () => {
  it('a call the pick refuses (an unknown subset) buys no retries or hedges: nothing was sent', async () => {
    const { subsets, roundRobin } = await import('../../src/index.js');
    const { VirtualClock } = await import('../../src/testing/index.js');
    await using c = client('budget-refused-pick').clock(new VirtualClock(0, 1))
      .endpoints([{ host: '127.0.0.1', port: 1, tags: ['v1'] }])
      .balancer(subsets({ subsets: { v1: { tags: ['v1'] } } }, roundRobin()))
      .retry({ attempts: 3 }).hedge({ after: '50ms' }).build();
    const before = c.snapshot();
    for (let i = 0; i < 200; i++) {
      const error = await c.call(() => Promise.resolve('x'), { subset: 'no-such-subset' }).catch((e: unknown) => e);
      assert.ok(isMeshkitError(error, 'ERR_INVALID_ARGUMENT') && error.blame === 'caller', String(error));
    }
    const after = c.snapshot();
    assert.equal(after.retryBudgetRemaining, before.retryBudgetRemaining, 'the retry budget grew on calls never sent');
    assert.equal(after.hedgeBudgetRemaining, before.hedgeBudgetRemaining, 'the hedge budget grew on calls never sent');
  });
});
