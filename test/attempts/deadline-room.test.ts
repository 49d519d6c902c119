import assert from 'node:assert/strict';
import type http from 'node:http';
import { after, describe, it } from 'node:test';
import { circuitBreaker, client, DEADLINE_HEADER, isMeshkitError, opossumCircuitBreaker, subscribe } from '../../src/index.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import express from 'express';
import { inbound, listen } from '../../src/express/index.js';
import { call } from '../server/http-call.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

/**
 * A caller's tiny deadline must not turn into failures charged to a healthy
 * upstream: the deadline header carries whole milliseconds (rounded down),
 * and a meshkit upstream answers 504 once the deadline it was given is spent.
 */
describe('deadlines too short to send, and 504s at the deadline', () => {
  const upstreams: Upstream[] = [];
  after(() => Promise.all(upstreams.map((u) => u.close())));

  /** An upstream whose requests wait until the test answers them. */
  async function heldUpstream(): Promise<{ upstream: Upstream; held: http.ServerResponse[]; arrived(count: number): Promise<void> }> {
    const upstream = await startUpstream();
    upstreams.push(upstream);
    const held: http.ServerResponse[] = [];
    upstream.handler = (_req, res) => {
      held.push(res);
    };
    return {
      upstream,
      held,
      async arrived(count) {
        while (held.length < count) await new Promise((resolve) => setTimeout(resolve, 1));
      },
    };
  }

  /** A client on `clock` with a breaker that counts failures and never opens; records each attempt's outcome. */
  function governed(name: string, address: string, clock: VirtualClock) {
    const breaker = circuitBreaker({ volumeThreshold: 1000 });
    const opossum = opossumCircuitBreaker({ opossum: { volumeThreshold: 1000 } });
    let opossumFailed = 0;
    opossum.breaker.on('failure', () => opossumFailed++);
    const c = client(name).endpoints([address]).clock(clock).timeout({ total: '10s' }).retry(false).policy(breaker).policy(opossum).build();
    const ends: string[] = [];
    const stop = subscribe('attemptEnd', (a) => {
      if (a.call.service === name) ends.push(`${a.outcome?.reason}/${a.outcome?.blame}/${a.outcome?.status}`);
    });
    return { c, breaker, opossumFailures: () => opossumFailed, ends, stop };
  }

  it('a call with under 1 ms left is not sent (its deadline header would say 0): it fails as the caller\'s deadline', async () => {
    const { upstream } = await heldUpstream();
    const clock = new VirtualClock();
    const { c, breaker, stop } = governed('deadline-room-unsent', upstream.address, clock);
    try {
      const error = await c.request({ path: '/', timeout: '500us' }).catch((e: unknown) => e);
      assert.ok(isMeshkitError(error, 'ERR_DEADLINE_EXCEEDED'), String(error));
      assert.equal(error.blame, 'caller');
      assert.equal(upstream.requests.length, 0, 'nothing was sent');
      assert.equal(breaker.stats().failures, 0);
    } finally {
      stop();
      await c.close({ timeout: 0 });
    }
  });

  it('a 504 within 1 ms of the caller\'s deadline is that deadline spent downstream: no endpoint or breaker is charged, the caller gets the 504', async () => {
    const { upstream, held, arrived } = await heldUpstream();
    const clock = new VirtualClock();
    const { c, breaker, opossumFailures, ends, stop } = governed('deadline-room-504', upstream.address, clock);
    try {
      const pending = c.request({ path: '/', timeout: 50 });
      await arrived(1);
      assert.equal(upstream.requests[0]?.headers[DEADLINE_HEADER], '50');
      // The next hop spent the 50 ms it was given and answered 504; it reaches us with 0.4 ms of ours left.
      await clock.advance(49.6);
      held[0]?.writeHead(504).end('deadline exceeded');
      const res = await pending;
      assert.equal(res.statusCode, 504);
      await res.body.dump();
      assert.deepEqual(ends, ['deadline/caller/504']);
      assert.equal(breaker.stats().failures, 0, 'the breaker saw no upstream failure');
      assert.equal(opossumFailures(), 0, 'nor did an opossum breaker');
      assert.equal(c.snapshot().endpoints[0]?.ejected, false);
    } finally {
      stop();
      await c.close({ timeout: 0 });
    }
  });

  it('a 504 well before the deadline, or at the client\'s own total, stays the upstream\'s', async () => {
    const { upstream, held, arrived } = await heldUpstream();
    const clock = new VirtualClock();
    const { c, breaker, opossumFailures, ends, stop } = governed('deadline-room-504-early', upstream.address, clock);
    try {
      // A gateway timeout of the upstream's own, 40 ms before the caller's deadline.
      const early = c.request({ path: '/', timeout: 50 });
      await arrived(1);
      await clock.advance(10);
      held[0]?.writeHead(504).end();
      await (await early).body.dump();
      // The client's own total (no tighter deadline from the caller) running out is the upstream's too.
      const own = c.request({ path: '/' });
      await arrived(2);
      await clock.advance(9999.6);
      held[1]?.writeHead(504).end();
      await (await own).body.dump();
      assert.deepEqual(ends, ['status/upstream/504', 'status/upstream/504']);
      assert.equal(breaker.stats().failures, 2);
      assert.equal(opossumFailures(), 2);
    } finally {
      stop();
      await c.close({ timeout: 0 });
    }
  });

  it('callers sending sub-millisecond deadlines through a meshkit edge never charge the healthy upstream behind it', async () => {
    const closers: (() => Promise<void>)[] = [];
    try {
      const seen: string[] = [];
      const upstreamApp = express();
      upstreamApp.use(inbound());
      upstreamApp.get('/', (req, res) => {
        seen.push(String(req.headers[DEADLINE_HEADER]));
        setTimeout(() => res.json({ ok: true }), 2);
      });
      const ups = [await listen(upstreamApp, { lifecycle: { signals: [] } }), await listen(upstreamApp, { lifecycle: { signals: [] } })];
      for (const up of ups) closers.push(() => up.close());
      const breaker = circuitBreaker({ volumeThreshold: 10, errorThreshold: 0.5 });
      const orders = client('deadline-room-edge').endpoints(ups.map((u) => u.address))
        .outlierDetection({ consecutiveGatewayFailures: 5, interval: '10s' }).policy(breaker).build();
      closers.push(() => orders.close({ timeout: 0 }));
      const edgeApp = express();
      edgeApp.use(inbound());
      edgeApp.get('/place', async (_req, res) => {
        try {
          const answer = await orders.request({ path: '/' });
          await answer.body.dump();
          res.status(answer.statusCode).end();
        } catch (error) {
          res.status(isMeshkitError(error, 'ERR_DEADLINE_EXCEEDED') ? 504 : 502).end();
        }
      });
      const edge = await listen(edgeApp, { lifecycle: { signals: [] } });
      closers.push(() => edge.close());
      const deadlines: http.OutgoingHttpHeaders[] = [{ 'grpc-timeout': '400u' }, { 'grpc-timeout': '900u' }, { 'grpc-timeout': '1500u' }, { [DEADLINE_HEADER]: '1' }, { [DEADLINE_HEADER]: '2' }];
      for (let i = 0; i < 60; i++) await call(`http://${edge.address}/place`, { headers: deadlines[i % deadlines.length] as http.OutgoingHttpHeaders });
      assert.equal(seen.includes('0'), false, `no request carried a deadline of 0 (seen: ${[...new Set(seen)].join(', ')})`);
      assert.equal(breaker.stats().failures, 0, 'the breaker saw no upstream failure');
      assert.deepEqual(orders.snapshot().endpoints.map((e) => e.ejected), [false, false]);
      const healthy = await call(`http://${edge.address}/place`);
      assert.equal(healthy.status, 200);
    } finally {
      for (const close of closers.reverse()) await close();
    }
  });
});
