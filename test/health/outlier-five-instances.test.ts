import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { client, roundRobin, type Client } from '../../src/index.js';
import { startUpstreams, type Upstream } from '../helpers/upstream.js';

// Round robin, so that the failing instance gets its turn every fifth request until it is ejected and the
// counts below are exact; retries off, so every request reaches exactly one instance.

/** Sends one GET and drains it; returns the status. */
async function get(c: Client): Promise<number> {
  const res = await c.request({ path: '/' });
  await res.body.dump();
  return res.statusCode;
}

const healthOf = (c: Client, u: Upstream) => c.endpoints().health.find((h) => h.id === u.address);
const served = (list: readonly Upstream[]): number[] => list.map((u) => u.requests.length);

describe('outlier detection with five real instances (loopback HTTP)', () => {
  let ups: Upstream[] = [];
  before(async () => {
    ups = await startUpstreams([{}, {}, {}, {}, {}]);
  });
  after(async () => {
    await Promise.all(ups.map((u) => u.close()));
  });
  const reset = (failing: number): void => {
    ups.forEach((u, i) => {
      u.behaviour = i >= ups.length - failing ? { status: 503 } : {};
      u.requests.length = 0;
    });
  };

  it('one instance answering 503 at once: ejected after its 5th consecutive failure, no traffic while out, back after its ejection time', async () => {
    reset(1);
    const failing = ups[4] as Upstream;
    await using c = client('five-one-failing').endpoints(ups.map((u) => u.address)).balancer(roundRobin()).retry(false)
      // A 2 s ejection: long enough for the requests below on a busy machine, short for a test. Reviews every 2 s:
      // each review the endpoint spends back in rotation forgets one ejection, and the second ejection below must
      // still count the first (it comes within a few requests of the return, well inside one interval).
      .outlierDetection({ interval: '2s', baseEjectionTime: '2s', maxEjectionTime: '20s', successRate: false })
      .build();

    let sent = 0;
    while (healthOf(c, failing)?.ejected !== true) {
      assert.ok(sent++ < 100, 'ejected within 100 requests');
      await get(c);
    }
    const ejectedAt = performance.now();
    const first = healthOf(c, failing);
    assert.equal(failing.requests.length, 5, 'the 5th consecutive 503 ejected it; it saw no 6th request');
    assert.deepEqual([first?.reason, first?.ejections], ['consecutive-gateway-failures', 1]);
    assert.ok(first?.ejectedForMs !== undefined && first.ejectedForMs > 0 && first.ejectedForMs <= 2000);
    assert.equal(c.endpoints().available.length, 4);

    // While it is out, every request goes to the four healthy instances and succeeds. A request counts
    // only if the endpoint was still ejected after it answered (ejection ends only at a review, never mid-request).
    let whileEjected = 0;
    for (let i = 0; i < 40; i++) {
      const status = await get(c);
      if (healthOf(c, failing)?.ejected !== true) break;
      whileEjected++;
      assert.equal(status, 200);
    }
    assert.ok(whileEjected >= 10, `only ${whileEjected} requests fitted in the 2 s ejection`);
    assert.equal(failing.requests.length, 5, 'no traffic while ejected');

    // It comes back at the first review after its ejection time (2 s), not before (and within one interval after).
    const remaining = first.ejectedForMs;
    while (healthOf(c, failing)?.ejected === true) {
      assert.ok(performance.now() - ejectedAt < remaining + 10_000, 'returned within 10 s of its ejection time');
      await sleep(20);
    }
    assert.ok(performance.now() - ejectedAt >= remaining - 50, `returned after ${Math.round(performance.now() - ejectedAt)} ms, ejection time left was ${remaining} ms`);
    assert.equal(c.endpoints().available.length, 5);

    // Back in rotation it gets traffic again; still failing, it is ejected again, now for 2 x base.
    sent = 0;
    while (healthOf(c, failing)?.ejected !== true) {
      assert.ok(sent++ < 100, 'ejected again within 100 requests');
      await get(c);
    }
    assert.equal(failing.requests.length, 10, 'five more requests: it was back in rotation, then out again');
    const second = healthOf(c, failing);
    assert.equal(second?.ejections, 2);
    assert.ok(second?.ejectedForMs !== undefined && second.ejectedForMs > 2000 && second.ejectedForMs <= 4000, `second ejection ${second?.ejectedForMs} ms`);
  });

  it('three failing: maxEjectionPercent caps the ejections, and below the panic threshold every instance is used', async () => {
    reset(3);
    const healthy = ups.slice(0, 2);
    const failing = ups.slice(2);

    // Cap 40 %: two of five may be out; the third failing instance stays in rotation (60 % healthy, no panic).
    {
      await using c = client('five-capped').endpoints(ups.map((u) => u.address)).balancer(roundRobin()).retry(false)
        .outlierDetection({ maxEjectionPercent: 40, successRate: false })
        .build();
      for (let i = 0; i < 100; i++) await get(c);
      const ejected = c.endpoints().health.filter((h) => h.ejected).map((h) => h.id);
      assert.equal(ejected.length, 2, `ejected: ${ejected.join(', ')}`);
      assert.ok(ejected.every((id) => failing.some((u) => u.address === id)));
      assert.equal(c.endpoints().available.length, 3);
      const before = served(ups);
      for (let i = 0; i < 60; i++) await get(c);
      const during = served(ups).map((n, i) => n - (before[i] as number));
      ups.forEach((u, i) => {
        const isEjected = ejected.includes(u.address);
        // Round robin over the three in rotation: 20 each.
        assert.equal(during[i], isEjected ? 0 : 20, `${u.address} (${isEjected ? 'ejected' : 'in rotation'}) got ${during[i]}`);
      });
      assert.equal(c.endpoints().health.filter((h) => h.ejected).length, 2, 'still capped after 20 more failures of the third');
    }

    // No cap: the third ejection would leave 40 % healthy, under the 50 % panic threshold, so all five are used.
    for (const u of ups) u.requests.length = 0;
    {
      await using c = client('five-panic').endpoints(ups.map((u) => u.address)).balancer(roundRobin()).retry(false)
        .outlierDetection({ maxEjectionPercent: 100, successRate: false })
        .build();
      let sent = 0;
      while (c.endpoints().health.filter((h) => h.ejected).length < 3) {
        assert.ok(sent++ < 200, 'three ejected within 200 requests');
        await get(c);
      }
      const snapshot = c.endpoints();
      assert.deepEqual(snapshot.health.filter((h) => h.ejected).map((h) => h.id).sort(), failing.map((u) => u.address).sort());
      assert.equal(snapshot.available.length, 5, 'panic: every endpoint is used');
      const before = served(ups);
      for (let i = 0; i < 50; i++) await get(c);
      const during = served(ups).map((n, i) => n - (before[i] as number));
      assert.deepEqual(during, [10, 10, 10, 10, 10], 'round robin over all five, ejected ones included');
      assert.ok(healthy.every((u) => healthOf(c, u)?.ejected === false));
    }
  });
});
