import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { client, leastRequest, peakEwma, roundRobin } from '../../src/index.js';
import { startUpstreams, type Upstream } from '../helpers/upstream.js';

describe('load in client.endpoints()', () => {
  it('shows peak EWMA latency estimates and attempts in flight per endpoint', async (t) => {
    // 300 ms: far above a fast endpoint's cold-start peak, which peak EWMA keeps for its decay time.
    const ups = await startUpstreams([{ delayMs: 1 }, { delayMs: 300 }]);
    t.after(() => Promise.all(ups.map((u) => u.close())));
    const [fast, slow] = ups as [Upstream, Upstream];
    await using c = client('loads').endpoints([fast.address, slow.address]).balancer(peakEwma()).build();
    for (let i = 0; i < 10; i++) await (await c.request({ path: '/' })).body.dump();
    const byId = new Map(c.endpoints().load.map((l) => [l.id, l]));
    const slowLoad = byId.get(slow.address);
    const fastLoad = byId.get(fast.address);
    assert.ok(slowLoad?.latencyMs !== undefined && fastLoad?.latencyMs !== undefined);
    assert.ok(slowLoad.latencyMs > fastLoad.latencyMs, `slow ${slowLoad.latencyMs} > fast ${fastLoad.latencyMs}`);
    assert.equal(slowLoad.inFlight, 0);
    const pending = c.request({ path: '/', signal: AbortSignal.timeout(5000) });
    const during = c.endpoints().load.reduce((sum, l) => sum + (l.inFlight ?? 0), 0);
    assert.equal(during, 1);
    await (await pending).body.dump();
  });

  it('shows in-flight counts for least request, and nothing for round robin', async (t) => {
    const ups = await startUpstreams([{ delayMs: 50 }]);
    t.after(() => Promise.all(ups.map((u) => u.close())));
    await using lr = client('lr-load').endpoints([(ups[0] as Upstream).address]).balancer(leastRequest()).build();
    const calls = [lr.request({ path: '/' }), lr.request({ path: '/' })];
    assert.equal(lr.endpoints().load[0]?.inFlight, 2);
    for (const res of await Promise.all(calls)) await res.body.dump();
    assert.equal(lr.endpoints().load[0]?.inFlight, 0);
    await using rr = client('rr-load').endpoints([(ups[0] as Upstream).address]).balancer(roundRobin()).build();
    assert.deepEqual(rr.endpoints().load, []);
  });
});
