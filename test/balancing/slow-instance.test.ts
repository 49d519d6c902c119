import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { peakEwma } from '../../src/balancing/index.js';
import { client, roundRobin, type BalancerFactory } from '../../src/index.js';
import { startUpstreams, type Upstream } from '../helpers/upstream.js';

// 10x apart. Absolute delays this large keep the test robust on a loaded 2-core machine: event-loop
// stalls add the same few ms to every measured RTT, and peak EWMA remembers a fast instance's worst spike
// for about its decay time (10 s), so with 2 ms vs 20 ms a stall can make a fast instance look slow;
// at 10 ms vs 100 ms only a stall of about 100 ms could.
const FAST_MS = 10;
const SLOW_MS = 100;
const WARMUP = 100;
const MEASURED = 300;
const CONCURRENCY = 3;

/** Sends `count` requests with `CONCURRENCY` workers. */
async function send(c: ReturnType<ReturnType<typeof client>['build']>, count: number): Promise<void> {
  let left = count;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (left-- > 0) {
      const res = await c.request({ path: '/' });
      await res.body.dump();
    }
  }));
}

/** Share of measured requests the slow upstream received, after a warm-up. */
async function slowShare(upstreams: Upstream[], balancer: BalancerFactory): Promise<number> {
  const c = client('slow-instance').endpoints(upstreams.map((u) => u.address)).balancer(balancer).build();
  try {
    await send(c, WARMUP);
    const seen = upstreams.map((u) => u.requests.length);
    await send(c, MEASURED);
    const counts = upstreams.map((u, i) => u.requests.length - (seen[i] as number));
    const total = counts.reduce((a, b) => a + b, 0);
    assert.equal(total, MEASURED);
    return (counts[counts.length - 1] as number) / total;
  } finally {
    await c.close();
  }
}

describe('balancing around a slow instance (real HTTP, loopback)', () => {
  let upstreams: Upstream[] = [];
  before(async () => {
    upstreams = await startUpstreams([{ delayMs: FAST_MS }, { delayMs: FAST_MS }, { delayMs: FAST_MS }, { delayMs: FAST_MS }, { delayMs: SLOW_MS }]);
  });
  after(async () => {
    await Promise.all(upstreams.map((u) => u.close()));
  });

  it('peak EWMA sends the 10x slower instance under 5% once warmed up; round robin sends it 20%', async () => {
    // Round robin first: it also warms the process up (JIT, first sockets). Peak EWMA keeps peaks for
    // about its 10 s decay, so a cold-start spike on a fast instance would linger through this short test.
    const rr = await slowShare(upstreams, roundRobin());
    const ewma = await slowShare(upstreams, peakEwma());
    assert.ok(ewma < 0.05, `peak EWMA sent ${(ewma * 100).toFixed(1)}% to the slow instance`);
    assert.ok(rr > 0.17 && rr < 0.23, `round robin sent ${(rr * 100).toFixed(1)}% to the slow instance`);
  });
});
