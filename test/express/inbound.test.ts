import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { client, currentInbound, DEADLINE_HEADER, inboundRemainingMs, isMeshkitError, type Client } from '../../src/index.js';
import { inbound, listen, type InboundMiddleware, type MeshkitServer } from '../../src/express/index.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';
import { VirtualClock } from '../../src/testing/index.js';
import { call, sleep } from '../server/http-call.js';

describe('meshkit/express inbound(): deadline and context over real HTTP', () => {
  let upstream: Upstream;
  let orders: Client;
  let served: MeshkitServer;
  let middleware: InboundMiddleware;
  const seen: { remaining: number; service: string | undefined; afterAwait: number; path: string }[] = [];
  let handlerRuns = 0;

  before(async () => {
    upstream = await startUpstream({ delayMs: 20 });
    orders = client('orders').endpoints([upstream.address]).build();
    const app = express();
    middleware = inbound({ service: 'gateway' });
    app.use(middleware);
    app.use(express.json());
    const handler = async (req: express.Request, res: express.Response): Promise<void> => {
      handlerRuns++;
      const remaining = inboundRemainingMs();
      await sleep(10);
      const afterAwait = inboundRemainingMs();
      seen.push({ remaining, service: currentInbound()?.service, afterAwait, path: req.path });
      try {
        const upstreamRes = await orders.request({ path: '/v1/orders/42' });
        res.json({ upstream: await upstreamRes.body.text(), body: req.body as unknown });
      } catch (error) {
        res.status(isMeshkitError(error, 'ERR_DEADLINE_EXCEEDED') ? 504 : 502).json({ error: String(error) });
      }
    };
    app.get('/orders', handler);
    app.post('/orders', handler);
    served = await listen(app, { lifecycle: { signals: [] } });
    // Warm up (first-request compilation, the client's first connection), so 300 ms is not spent on a cold start.
    await call(`http://${served.address}/orders`);
  });
  after(async () => {
    await served.close();
    await orders.close();
    await upstream.close();
  });

  it('a 300 ms deadline header reaches the handler, and the outbound call carries a smaller one to the upstream', async () => {
    const before = upstream.requests.length;
    const answer = await call(`http://${served.address}/orders`, { headers: { [DEADLINE_HEADER]: '300' } });
    assert.equal(answer.status, 200, answer.body);
    const handled = seen.at(-1);
    assert.ok(handled !== undefined);
    assert.equal(handled.service, 'gateway');
    assert.ok(handled.remaining > 0 && handled.remaining <= 300, `the handler saw ${handled.remaining} ms`);
    assert.ok(handled.afterAwait < handled.remaining, 'the same deadline after an await');
    const sent = upstream.requests.slice(before);
    assert.equal(sent.length, 1);
    const header = Number(sent[0]?.headers[DEADLINE_HEADER]);
    assert.ok(Number.isInteger(header), `the upstream saw ${DEADLINE_HEADER}: ${String(sent[0]?.headers[DEADLINE_HEADER])}`);
    assert.ok(header > 0 && header < 300 && header <= handled.afterAwait, `the upstream saw ${header} ms (the handler had ${handled.afterAwait} left)`);
  });

  it('reads grpc-timeout too, and the smaller of two headers wins', async () => {
    const before = upstream.requests.length;
    assert.equal((await call(`http://${served.address}/orders`, { headers: { 'grpc-timeout': '250m' } })).status, 200);
    assert.ok(Number(upstream.requests[before]?.headers[DEADLINE_HEADER]) < 250);
    assert.equal((await call(`http://${served.address}/orders`, { headers: { 'grpc-timeout': '1S', [DEADLINE_HEADER]: '200' } })).status, 200);
    assert.ok(Number(upstream.requests[before + 1]?.headers[DEADLINE_HEADER]) < 200);
  });

  it('the context survives body parsing (express.json) and awaits in a POST handler', async () => {
    const before = upstream.requests.length;
    const answer = await call(`http://${served.address}/orders`, {
      method: 'POST', headers: { [DEADLINE_HEADER]: '400', 'content-type': 'application/json' }, body: JSON.stringify({ id: 7 }),
    });
    assert.equal(answer.status, 200, answer.body);
    assert.deepEqual((JSON.parse(answer.body) as { body: unknown }).body, { id: 7 });
    const handled = seen.at(-1);
    assert.ok(handled !== undefined && handled.remaining <= 400 && handled.remaining > 0, `handler saw ${handled?.remaining}`);
    assert.ok(Number(upstream.requests[before]?.headers[DEADLINE_HEADER]) < 400);
  });

  it('an already-expired deadline is answered 504 and the handler never runs', async () => {
    const expired = middleware.stats.expiredDeadlines;
    const runs = handlerRuns;
    const before = upstream.requests.length;
    const answer = await call(`http://${served.address}/orders`, { headers: { [DEADLINE_HEADER]: '0' } });
    assert.equal(answer.status, 504);
    assert.equal((JSON.parse(answer.body) as { code: string }).code, 'ERR_DEADLINE_EXCEEDED');
    assert.equal(handlerRuns, runs, 'the handler did not run');
    assert.equal(upstream.requests.length, before, 'nothing went upstream');
    assert.equal(middleware.stats.expiredDeadlines, expired + 1, 'counted');
  });

  it('a caller asking for 31 years (or 11,000 in grpc-timeout) gets 5 minutes: in the handler, upstream and the counters, and no timer overflows', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning);
    };
    process.on('warning', onWarning);
    const clamped = middleware.stats.clampedDeadlines;
    try {
      for (const headers of [{ [DEADLINE_HEADER]: '999999999999' }, { 'grpc-timeout': '99999999H' }]) {
        const before = upstream.requests.length;
        const answer = await call(`http://${served.address}/orders`, { headers });
        assert.equal(answer.status, 200, answer.body);
        const handled = seen.at(-1);
        assert.ok(handled !== undefined && handled.remaining <= 300_000 && handled.remaining > 290_000, `the handler saw ${handled?.remaining} ms`);
        const sent = Number(upstream.requests[before]?.headers[DEADLINE_HEADER]);
        assert.ok(sent <= 300_000 && sent > 290_000, `the upstream saw ${sent} ms`);
      }
      // A timer past Node's limit fires at once and warns: give any such timer the time to do so.
      await sleep(50);
    } finally {
      process.off('warning', onWarning);
    }
    assert.deepEqual(warnings.filter((w) => w.name === 'TimeoutOverflowWarning').map((w) => w.message), []);
    assert.equal(middleware.stats.clampedDeadlines, clamped + 2);
    assert.equal(middleware.stats.snapshot().clampedDeadlines, clamped + 2);
  });

  it('a deadline that runs out while handling bounds the outbound call: the handler answers before the slow upstream would', async () => {
    upstream.behaviour = { delayMs: 200 };
    try {
      const before = upstream.requests.length;
      // 50 ms: the handler's 10 ms sleep leaves ~40 ms, less than the upstream's 200 ms.
      const answer = await call(`http://${served.address}/orders`, { headers: { [DEADLINE_HEADER]: '50' } });
      assert.equal(answer.status, 504, answer.body);
      assert.ok(answer.ms < 190, `answered after ${Math.round(answer.ms)} ms, before the upstream would have`);
      assert.ok(upstream.requests.length - before <= 1);
    } finally {
      upstream.behaviour = { delayMs: 20 };
    }
  });

  it('a request without a deadline header sends none upstream; malformed headers count as absent, and are counted', async () => {
    const malformed = middleware.stats.malformedDeadlines;
    const before = upstream.requests.length;
    assert.equal((await call(`http://${served.address}/orders`)).status, 200);
    assert.equal(seen.at(-1)?.remaining, Infinity);
    assert.equal((await call(`http://${served.address}/orders`, { headers: { [DEADLINE_HEADER]: 'soon', 'grpc-timeout': '5x' } })).status, 200);
    assert.equal(seen.at(-1)?.remaining, Infinity);
    for (const r of upstream.requests.slice(before)) assert.equal(r.headers[DEADLINE_HEADER], undefined);
    assert.equal(middleware.stats.malformedDeadlines, malformed + 1, 'one request with two bad headers');
  });

  it('no context leaks out of a request', () => {
    assert.equal(currentInbound(), undefined);
    assert.equal(inboundRemainingMs(), Infinity);
  });

  it('rejects bad options with ERR_INVALID_CONFIG', () => {
    assert.throws(() => inbound({ service: '' }), (e) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && /inbound\.service/.test(e.message));
    assert.throws(() => inbound({ deadline: { max: -1 } }), (e) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && /inbound\.deadline\.max/.test(e.message));
    assert.throws(() => inbound({ deadline: { soon: 1 } as never }), (e) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && /inbound\.deadline\.soon/.test(e.message));
    // Unknown keys were ignored before: a typo silently meant "no deadline settings".
    assert.throws(() => inbound({ deadlines: { max: '1s' } } as never),
      (e) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === 'inbound.deadlines' && /did you mean `deadline`/.test(e.message));
    assert.throws(() => inbound({ deadline: { max: '1000h' } }), (e) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === 'inbound.deadline.max');
    assert.throws(() => inbound(null as never), (e) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === 'inbound');
  });
});

describe('meshkit/express inbound({ clock }): the deadline is on the clock the server runs on', () => {
  it('sets deadlines on the given clock, and calls made while serving read what is left on it', async () => {
    const clock = new VirtualClock(10_000);
    const app = express();
    app.use(inbound({ clock }));
    const seen: { remaining: number; sameClock: boolean; afterAdvance: number }[] = [];
    app.get('/', (_req, res) => {
      const remaining = inboundRemainingMs();
      void clock.advance(100).then(() => {
        seen.push({ remaining, sameClock: currentInbound()?.clock === clock, afterAdvance: inboundRemainingMs() });
        res.end('ok');
      });
    });
    const served = await listen(app, { lifecycle: { signals: [] } });
    try {
      assert.equal((await call(`http://${served.address}/`, { headers: { [DEADLINE_HEADER]: '300' } })).status, 200);
      // Virtual time moved only when the handler advanced it: exactly 300 ms, then 200.
      assert.deepEqual(seen, [{ remaining: 300, sameClock: true, afterAdvance: 200 }]);
    } finally {
      await served.close();
    }
    assert.throws(() => inbound({ clock: { now: () => 0 } as never }), (e: unknown) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && /inbound\.clock/.test(e.message));
  });
});
