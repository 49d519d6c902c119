import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { zoneAware } from '../../src/balancing/index.js';
import { client } from '../../src/index.js';
import { startUpstreams, type Upstream } from '../helpers/upstream.js';

describe('zone-aware routing in a client (real HTTP, loopback)', () => {
  let ups: Upstream[] = [];
  before(async () => {
    ups = await startUpstreams([{}, {}, {}, {}]);
  });
  after(async () => {
    await Promise.all(ups.map((u) => u.close()));
  });

  it('keeps traffic in the local zone, and moves it to the other zone once the local instances are ejected', async () => {
    const [a1, a2, b1, b2] = ups as [Upstream, Upstream, Upstream, Upstream];
    const local = [a1, a2];
    const remote = [b1, b2];
    const zones = [['a', a1], ['a', a2], ['b', b1], ['b', b2]] as const;
    await using c = client('x')
      .endpoints(zones.map(([zone, u]) => ({ host: '127.0.0.1', port: u.port, zone })))
      .balancer(zoneAware({ zone: 'a' }))
      .outlierDetection({ maxEjectionPercent: 50 })
      .build();
    const count = (list: Upstream[]): number => list.reduce((sum, u) => sum + u.requests.length, 0);

    // Healthy: everything stays in zone a.
    for (let i = 0; i < 40; i++) {
      const res = await c.request({ path: '/' });
      assert.equal(res.statusCode, 200);
      await res.body.dump();
    }
    assert.equal(count(local), 40);
    assert.equal(count(remote), 0, 'no cross-zone traffic while the local zone is healthy');

    // Zone a starts failing fast; 5 consecutive gateway failures eject each instance (50 % may be ejected).
    for (const u of local) u.behaviour = { status: 503 };
    let sent = 0;
    while (c.endpoints().health.filter((h) => h.ejected).length < 2) {
      assert.ok(sent++ < 40, 'both local instances should be ejected within a few requests');
      await (await c.request({ path: '/' })).body.dump();
    }
    const health = c.endpoints().health;
    for (const u of local) {
      const h = health.find((e) => e.id === u.address);
      assert.deepEqual([h?.ejected, h?.reason], [true, 'consecutive-gateway-failures']);
    }
    assert.deepEqual(c.endpoints().available.map((e) => e.zone), ['b', 'b']);

    // Everything now goes to zone b and succeeds; zone a sees nothing more.
    const localBefore = count(local);
    const remoteBefore = count(remote);
    for (let i = 0; i < 40; i++) {
      const res = await c.request({ path: '/' });
      assert.equal(res.statusCode, 200);
      await res.body.dump();
    }
    assert.equal(count(local), localBefore, 'no traffic to the ejected local instances');
    assert.equal(count(remote), remoteBefore + 40);
  });
});
