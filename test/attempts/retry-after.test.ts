import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { client, roundRobin } from '../../src/index.js';
import { parseRetryAfter } from '../../src/attempts/retry-after.js';
import { VirtualClock } from '../../src/testing/index.js';
import { startUpstreams, type Upstream } from '../helpers/upstream.js';

describe('parseRetryAfter', () => {
  it('reads delay-seconds and HTTP-dates, and ignores garbage', () => {
    const now = Date.parse('Wed, 25 Nov 2026 12:00:00 GMT');
    assert.equal(parseRetryAfter('120', now), 120_000);
    assert.equal(parseRetryAfter(' 0 ', now), 0);
    assert.equal(parseRetryAfter(['3', '9'], now), 3000);
    assert.equal(parseRetryAfter('Wed, 25 Nov 2026 12:00:05 GMT', now), 5000);
    assert.equal(parseRetryAfter('Wed, 25 Nov 2026 11:00:00 GMT', now), 0, 'a date in the past: no wait');
    for (const bad of ['-1', '1.5', 'soon', '', undefined, 42]) assert.equal(parseRetryAfter(bad, now), undefined, String(bad));
  });
});

/**
 * Two upstreams: whichever gets the first request of the test answers it
 * with `status` and `Retry-After: retryAfter` (round robin may start on
 * either); every later request is answered 200.
 */
async function pausingPair(status: number, retryAfter: string): Promise<Upstream[]> {
  const ups = await startUpstreams([{}, {}]);
  let first = true;
  for (const up of ups) {
    up.handler = (_req, res) => {
      if (first) res.writeHead(status, { 'retry-after': retryAfter }).end('later');
      else res.writeHead(200).end('ok');
      first = false;
    };
  }
  return ups;
}

const total = (ups: Upstream[]): number => ups.reduce((n, u) => n + u.requests.length, 0);

describe('Retry-After', () => {
  it('a 503 with Retry-After: 1 from the only endpoint waits a second before retrying it', async (t) => {
    const [up] = await startUpstreams([{}]);
    t.after(() => up?.close());
    let first = true;
    (up as Upstream).handler = (_req, res) => {
      res.writeHead(first ? 503 : 200, first ? { 'retry-after': '1' } : {}).end();
      first = false;
    };
    await using c = client('retry-after').endpoints([(up as Upstream).address]).build();
    const started = performance.now();
    const res = await c.request({ path: '/' });
    await res.body.dump();
    const elapsed = performance.now() - started;
    assert.equal(res.statusCode, 200);
    assert.ok(elapsed >= 990 && elapsed < 3000, `waited ${elapsed.toFixed(0)} ms (asked 1000 ms, backoff alone is <= 250 ms)`);
    assert.equal(up?.requests.length, 2);
  });

  it('a 503 with Retry-After speaks for its instance: the retry goes to another endpoint without waiting', async (t) => {
    const ups = await pausingPair(503, '5');
    t.after(() => Promise.all(ups.map((u) => u.close())));
    await using c = client('retry-after-elsewhere').endpoints(ups.map((u) => u.address)).balancer(roundRobin()).build();
    const started = performance.now();
    const res = await c.request({ path: '/' });
    await res.body.dump();
    assert.equal(res.statusCode, 200);
    assert.ok(performance.now() - started < 1000, `retried elsewhere at once (${(performance.now() - started).toFixed(0)} ms)`);
    assert.equal(total(ups), 2);
    assert.ok(ups.every((u) => u.requests.length === 1), 'one request to each endpoint');
  });

  it('a 429 is retried when listed, honouring its HTTP-date Retry-After even on another endpoint', async (t) => {
    const ups = await pausingPair(429, new Date(Date.now() + 2000).toUTCString());
    t.after(() => Promise.all(ups.map((u) => u.close())));
    await using c = client('retry-429').endpoints(ups.map((u) => u.address)).balancer(roundRobin())
      .retry({ statuses: [429, 502, 503, 504] }).build();
    const started = performance.now();
    const res = await c.request({ path: '/' });
    await res.body.dump();
    assert.equal(res.statusCode, 200);
    // HTTP-dates have whole-second precision: the wait is between 1 and 2 s.
    assert.ok(performance.now() - started >= 900, `waited ${(performance.now() - started).toFixed(0)} ms`);
  });

  it('an HTTP-date Retry-After is measured against the client clock\'s wall time, and waited on that clock', async (t) => {
    // The virtual clock's wall time is 2026-01-01T00:00:00Z: a date 3 s later would be long past on the real clock.
    const clock = new VirtualClock(0, 1, Date.parse('2026-01-01T00:00:00Z'));
    const ups = await pausingPair(429, new Date(clock.wallNow() + 3000).toUTCString());
    t.after(() => Promise.all(ups.map((u) => u.close())));
    await using c = client('retry-429-virtual').endpoints(ups.map((u) => u.address)).clock(clock)
      .retry({ statuses: [429] }).build();
    const pending = c.request({ path: '/' });
    const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
    for (let i = 0; i < 100 && total(ups) === 0; i++) await sleep(10);
    await sleep(100);
    await clock.advance(2900);
    await sleep(100);
    assert.equal(total(ups), 1, 'no retry before the date, on the client\'s clock');
    await clock.advance(200);
    const res = await pending;
    await res.body.dump();
    assert.equal(res.statusCode, 200);
    assert.equal(total(ups), 2);
  });

  it('a Retry-After longer than maxRetryAfter is not retried: the caller gets that answer at once', async (t) => {
    const ups = await pausingPair(429, '60');
    t.after(() => Promise.all(ups.map((u) => u.close())));
    await using c = client('retry-after-long').endpoints(ups.map((u) => u.address)).balancer(roundRobin())
      .retry({ statuses: [429, 503] }).build();
    const started = performance.now();
    const res = await c.request({ path: '/' });
    await res.body.dump();
    assert.equal(res.statusCode, 429);
    assert.equal(res.headers['retry-after'], '60');
    assert.ok(performance.now() - started < 500);
    assert.equal(total(ups), 1, 'no retry went out');

  });

  it('a Retry-After longer than the deadline leaves is not retried either', async (t) => {
    const ups = await pausingPair(429, '60');
    t.after(() => Promise.all(ups.map((u) => u.close())));
    await using c = client('retry-after-deadline').endpoints(ups.map((u) => u.address)).balancer(roundRobin())
      .timeout({ total: '500ms' }).retry({ statuses: [429], maxRetryAfter: '2m' }).build();
    const started = performance.now();
    const res = await c.request({ path: '/' });
    await res.body.dump();
    assert.equal(res.statusCode, 429, 'a 60 s pause cannot fit a 500 ms deadline');
    assert.ok(performance.now() - started < 450, 'answered at once, not at the deadline');
    assert.equal(total(ups), 1);
  });

  it('rejects a bad maxRetryAfter at build time', () => {
    assert.throws(() => client('x').retry({ maxRetryAfter: 'soon' }), { code: 'ERR_INVALID_CONFIG', message: /retry\.maxRetryAfter/ });
  });
});
