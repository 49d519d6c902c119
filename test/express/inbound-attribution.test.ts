import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { circuitBreaker, client, DEADLINE_HEADER, isMeshkitError, type Client } from '../../src/index.js';
import { inbound, listen, type MeshkitServer } from '../../src/express/index.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';
import { call } from '../server/http-call.js';

/**
 * Issue 11, finding 2: a caller's tiny inbound deadline must not open the
 * outbound breaker for everyone. 25 requests with `x-meshkit-deadline: 2`
 * used to open it (volume 20), and the next normal requests got ERR_CIRCUIT_OPEN.
 */
describe('meshkit/express: a caller\'s inbound deadline is the caller\'s doing', () => {
  let upstream: Upstream;
  let orders: Client;
  let served: MeshkitServer;
  const breaker = circuitBreaker({ volumeThreshold: 20, errorThreshold: 0.5, resetTimeout: '1h' });
  const outcomes: string[] = [];

  before(async () => {
    upstream = await startUpstream({ delayMs: 40 });
    orders = client('orders').endpoints([upstream.address]).timeout({ perTry: '1s', total: '2s' }).policy(breaker).build();
    const app = express();
    app.use(inbound({ service: 'gateway' }));
    app.get('/orders', async (_req, res) => {
      try {
        const upstreamRes = await orders.request({ path: '/v1/orders/42' });
        await upstreamRes.body.dump();
        outcomes.push('ok');
        res.status(200).json({ ok: true });
      } catch (error) {
        outcomes.push(isMeshkitError(error) ? `${error.code}:${error.blame}` : String(error));
        res.status(isMeshkitError(error, 'ERR_DEADLINE_EXCEEDED') ? 504 : 502).json({ code: isMeshkitError(error) ? error.code : 'unknown' });
      }
    });
    served = await listen(app, { lifecycle: { signals: [] } });
    await call(`http://${served.address}/orders`); // warm up
    outcomes.length = 0;
  });
  after(async () => {
    await served.close();
    await orders.close();
    await upstream.close();
  });

  it('25 requests with a 2 ms deadline leave the breaker closed, and the next normal requests succeed', async () => {
    const counted = breaker.stats().calls; // the warm-up
    for (let i = 0; i < 25; i++) {
      const answer = await call(`http://${served.address}/orders`, { headers: { [DEADLINE_HEADER]: '2' } });
      assert.equal(answer.status, 504, answer.body);
    }
    assert.ok(outcomes.every((o) => o === 'ERR_DEADLINE_EXCEEDED:caller'), outcomes.join(', '));
    assert.equal(breaker.state, 'closed');
    assert.equal(breaker.stats().failures, 0);
    assert.equal(breaker.stats().calls, counted, 'none of them counted, not even as a success');
    // Some deadlines run out before the call reaches the breaker; the others it saw and ignored.
    assert.ok(breaker.stats().ignored > 0 && breaker.stats().ignored <= 25);
    for (let i = 0; i < 5; i++) {
      const answer = await call(`http://${served.address}/orders`);
      assert.equal(answer.status, 200, `normal request ${i}: ${answer.body}`);
    }
    // The endpoint's latency estimate did not learn 2 ms "timeouts" either: it is near the upstream's real 40 ms.
    const latency = orders.endpoints().endpoints.length === 1 ? orders.snapshot().endpoints[0]?.latencyMs : undefined;
    assert.ok(latency !== undefined && latency >= 20, `latency estimate ${String(latency)} ms`);
  });
});
