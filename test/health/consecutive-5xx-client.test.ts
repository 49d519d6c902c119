import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { client, isMeshkitError, roundRobin, type Client } from '../../src/index.js';
import { startUpstream, startUpstreams, type Upstream } from '../helpers/upstream.js';

// Real instances on loopback; round robin and no retries, so that every request reaches exactly one instance
// and the failing one gets every fifth request until it is ejected.

async function get(c: Client, path = '/'): Promise<number> {
  const res = await c.request({ path });
  await res.body.dump();
  return res.statusCode;
}

const healthOf = (c: Client, u: Upstream) => c.endpoints().health.find((h) => h.id === u.address);

describe('consecutive 5xx with real instances (loopback HTTP)', () => {
  let ups: Upstream[] = [];
  before(async () => {
    ups = await startUpstreams([{}, {}, {}, {}, { status: 500 }]);
  });
  after(async () => {
    await Promise.all(ups.map((u) => u.close()));
  });
  const failing = (): Upstream => ups[4] as Upstream;
  const reset = (): void => { for (const u of ups) u.requests.length = 0; };

  it('an instance answering 500 is ejected by its 5th 500 in a row with consecutive5xx: 5, and sees no traffic after', async () => {
    reset();
    await using c = client('c5xx-on').endpoints(ups.map((u) => u.address)).balancer(roundRobin()).retry(false)
      .outlierDetection({ consecutive5xx: 5, successRate: false, baseEjectionTime: '1h', maxEjectionTime: '1h' }).build();
    let sent = 0;
    while (healthOf(c, failing())?.ejected !== true) {
      assert.ok(sent++ < 100, 'ejected within 100 requests');
      await get(c);
    }
    assert.equal(failing().requests.length, 5, 'the 5th 500 ejected it; it saw no 6th request');
    assert.deepEqual([healthOf(c, failing())?.reason, healthOf(c, failing())?.ejections], ['consecutive-5xx', 1]);
    for (let i = 0; i < 20; i++) assert.equal(await get(c), 200);
    assert.equal(failing().requests.length, 5, 'no traffic while ejected');
    assert.equal(c.endpoints().available.length, 4);
  });

  it('with the defaults, the same instance stays in rotation: its 500s are not gateway failures', async () => {
    reset();
    await using c = client('c5xx-defaults').endpoints(ups.map((u) => u.address)).balancer(roundRobin()).retry(false)
      .outlierDetection({}).build();
    const answers = new Map<number, number>();
    for (let i = 0; i < 50; i++) {
      const status = await get(c);
      answers.set(status, (answers.get(status) ?? 0) + 1);
    }
    assert.deepEqual([answers.get(200), answers.get(500)], [40, 10]);
    const health = healthOf(c, failing());
    assert.deepEqual([health?.ejected, health?.consecutive5xx, health?.consecutiveGatewayFailures], [false, 10, 0]);
    assert.equal(c.endpoints().available.length, 5);
  });

  it("the caller's abort and the caller's deadline break no run and count toward none", async () => {
    const lone = await startUpstream();
    // '/' fails at once; '/hang' never answers, so only the caller's signal or deadline ends it.
    lone.handler = (req, res) => {
      if (req.url !== '/hang') res.writeHead(500).end('boom');
    };
    try {
      await using c = client('c5xx-caller').endpoints([lone.address]).retry(false)
        .outlierDetection({ consecutive5xx: 3, successRate: false }).build();
      const health = () => c.endpoints().health[0];
      assert.equal(await get(c), 500);
      assert.equal(await get(c), 500);
      const controller = new AbortController();
      const aborted = c.request({ path: '/hang', signal: controller.signal });
      setTimeout(() => controller.abort(new Error('the caller gave up')), 50);
      await assert.rejects(aborted);
      await assert.rejects(c.request({ path: '/hang', timeout: '50ms' }), (e: unknown) => isMeshkitError(e) && e.blame === 'caller');
      assert.deepEqual([health()?.ejected, health()?.consecutive5xx], [false, 2], 'two 500s, then nothing the endpoint did');
      assert.equal(await get(c), 500);
      assert.deepEqual([health()?.ejected, health()?.reason], [true, 'consecutive-5xx']);
    } finally {
      await lone.close();
    }
  });
});
