import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { client, roundRobin } from '../../src/index.js';
import { startUpstreams, type Upstream } from '../helpers/upstream.js';

describe('outlier detection in a client', () => {
  let ups: Upstream[] = [];
  before(async () => {
    ups = await startUpstreams([{}, {}, {}, { status: 503 }]);
  });
  after(async () => {
    await Promise.all(ups.map((u) => u.close()));
  });

  it('takes an endpoint that keeps answering 503 out of rotation, and shows why', async () => {
    const failing = ups[3] as Upstream;
    await using c = client('ejecting').endpoints(ups.map((u) => u.address))
      .balancer(roundRobin()).outlierDetection({ maxEjectionPercent: 25 }).retry({ attempts: 2 }).build();
    for (let i = 0; i < 40; i++) await (await c.request({ path: '/' })).body.dump();
    const before = failing.requests.length;
    assert.ok(before >= 5 && before <= 6, `the failing endpoint saw only the 5 failures that ejected it (saw ${before})`);
    for (let i = 0; i < 40; i++) {
      const res = await c.request({ path: '/' });
      assert.equal(res.statusCode, 200);
      await res.body.dump();
    }
    assert.equal(failing.requests.length, before, 'no traffic after ejection');
    const snapshot = c.endpoints();
    assert.equal(snapshot.available.length, 3);
    const health = snapshot.health.find((h) => h.id === failing.address);
    assert.deepEqual([health?.ejected, health?.reason], [true, 'consecutive-gateway-failures']);
  });

  it('is off by default', async () => {
    await using c = client('not-ejecting').endpoints(ups.map((u) => u.address)).retry(false).build();
    for (let i = 0; i < 20; i++) await (await c.request({ path: '/' })).body.dump();
    assert.equal(c.endpoints().available.length, 4);
    assert.deepEqual(c.endpoints().health, []);
  });
});
