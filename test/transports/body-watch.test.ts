import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { client, isMeshkitError, roundRobin, type Client } from '../../src/index.js';
import { endpointRecord, readError, stallBody, watchServerSockets, type ServerSockets } from '../helpers/body-upstream.js';
import { clientSocketsTo } from '../helpers/resources.js';
import { trackUnhandledRejections } from '../helpers/unhandled.js';
import { startUpstream, startUpstreams, type Upstream } from '../helpers/upstream.js';

describe('undici transport: a body that fails upstream after the headers', () => {
  let upstream: Upstream;
  let sockets: ServerSockets;
  const unhandled = trackUnhandledRejections();
  before(async () => {
    upstream = await startUpstream();
    sockets = watchServerSockets(upstream.server);
    upstream.handler = (req, res) => {
      if (req.url === '/stall') stallBody(res);
      else if (req.url === '/cut') {
        stallBody(res);
        setTimeout(() => req.socket.destroy(), 50);
      } else res.end('ok');
    };
  });
  after(async () => {
    unhandled.stop();
    assert.deepEqual(unhandled.reasons, [], 'no unhandled rejection');
    await upstream.close();
  });

  it('a stall past bodyTimeout fails with ERR_TIMEOUT, closes the connection and counts against the endpoint', async () => {
    await using c = client('orders').endpoints([upstream.address]).timeout({ bodyTimeout: '200ms' })
      .outlierDetection({ consecutiveGatewayFailures: 5 }).build();
    const closedBefore = sockets.closed;
    const started = performance.now();
    const res = await c.request({ path: '/stall' });
    assert.equal(endpointRecord(c).failures, 0, 'the headers were a success');
    const error = await readError(res.body.text());
    const elapsed = performance.now() - started;
    assert.ok(isMeshkitError(error, 'ERR_TIMEOUT'), `got ${String(error)}`);
    assert.deepEqual(error.details, { service: 'orders', endpoint: upstream.address, attempt: 1, timeoutMs: 200, phase: 'body' });
    assert.equal((error.cause as { code?: string }).code, 'UND_ERR_BODY_TIMEOUT');
    // undici checks body timeouts on its coarse (about 1 s) timers.
    assert.ok(elapsed >= 190 && elapsed < 2500, `the stall was noticed after ${elapsed.toFixed(0)} ms`);
    await sockets.closedAtLeast(closedBefore + 1);
    const record = endpointRecord(c);
    assert.equal(record.failures, 1, 'the endpoint health filter saw a gateway failure');
    assert.ok(record.latencyMs >= 190, `the balancer saw the stalled attempt as slow (latency estimate ${record.latencyMs} ms)`);
    assert.equal(record.inFlight, 0, 'and its in-flight count is back to zero');
  });

  it('the per-try timeout is the default body timeout', async () => {
    await using c = client('orders').endpoints([upstream.address]).timeout({ perTry: '200ms' }).build();
    const res = await c.request({ path: '/stall' });
    const error = await readError(res.body.text());
    assert.ok(isMeshkitError(error, 'ERR_TIMEOUT'), `got ${String(error)}`);
    assert.equal(error.details['timeoutMs'], 200);
  });

  it('a stalled body ejects its endpoint under consecutiveGatewayFailures: 1', async () => {
    const [healthy] = await startUpstreams([{}]) as [Upstream];
    try {
      await using c = client('orders').endpoints([upstream.address, healthy.address]).balancer(roundRobin())
        .timeout({ bodyTimeout: '100ms' })
        .outlierDetection({ consecutiveGatewayFailures: 1, maxEjectionPercent: 50 }).build();
      for (let i = 0; i < 2; i++) {
        const res = await c.request({ path: '/stall' });
        await readError(res.body.text());
      }
      const stalled = c.endpoints().health.find((h) => h.id === upstream.address);
      assert.equal(stalled?.ejected, true);
      assert.equal(stalled?.reason, 'consecutive-gateway-failures');
      assert.equal(c.endpoints().health.find((h) => h.id === healthy.address)?.ejected, false);
    } finally {
      await healthy.close();
    }
  });

  it('a body the upstream cuts counts as a reset; the reader gets undici\'s error', async () => {
    await using c = client('orders').endpoints([upstream.address]).outlierDetection({ consecutiveGatewayFailures: 5 }).build();
    const res = await c.request({ path: '/cut' });
    const error = await readError(res.body.text());
    assert.equal((error as { code?: string }).code, 'UND_ERR_SOCKET');
    assert.equal(endpointRecord(c).failures, 1);
  });

  it('adds no close listener to the body, and still lets go of the call when the body is done', async () => {
    // A second close listener makes Node keep the listeners in an array; V8 may allocate such arrays in the
    // old generation, where a dead one kept finished requests alive through young collections (body-watch.ts).
    await using c = client('orders').endpoints([upstream.address]).build();
    const controller = new AbortController();
    const res = await c.request({ path: '/', signal: controller.signal });
    assert.equal(res.body.listenerCount('close'), 0, 'meshkit added no close listener');
    assert.equal(getEventListeners(controller.signal, 'abort').length, 1, 'the caller\'s signal governs the open body');
    assert.equal(await res.body.text(), 'ok');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0, 'the body is done: the call let go of the signal');
  });

  it('a reader that destroys the body itself charges nobody', async () => {
    await using c = client('orders').endpoints([upstream.address]).timeout({ bodyTimeout: '100ms' })
      .outlierDetection({ consecutiveGatewayFailures: 5 }).build();
    const closedBefore = sockets.closed;
    const res = await c.request({ path: '/stall' });
    res.body.destroy();
    await sockets.closedAtLeast(closedBefore + 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(endpointRecord(c).failures, 0);
  });
});

describe('five instances, one stalling 10 % of its bodies (perTry 300 ms)', () => {
  it('no body read outlives its bounds, and close() returns within its own', async () => {
    const upstreams = await startUpstreams([{}, {}, {}, {}, {}]);
    const staller = upstreams[0] as Upstream;
    let served = 0;
    staller.handler = (_req, res) => {
      if (++served % 10 === 0) stallBody(res);
      else res.end('ok');
    };
    const c = client('orders').endpoints(upstreams.map((u) => u.address)).balancer(roundRobin())
      .timeout({ perTry: '300ms' }).build();
    const outcomes = { read: 0, timedOut: 0, other: [] as unknown[] };
    let pending = 0;
    let lastStartedAt = 0;
    const one = async (): Promise<void> => {
      pending++;
      lastStartedAt = performance.now();
      try {
        const res = await c.request({ path: '/' });
        await res.body.text();
        outcomes.read++;
      } catch (error) {
        if (isMeshkitError(error, 'ERR_TIMEOUT')) outcomes.timedOut++;
        else outcomes.other.push(error);
      } finally {
        pending--;
      }
    };
    // 300 calls, 20 at a time; each worker starts its next call when its last one ends.
    const running: Promise<void>[] = [];
    let started = 0;
    for (let worker = 0; worker < 20; worker++) {
      running.push((async () => {
        while (started < 300) {
          started++;
          await one();
        }
      })());
    }
    // Wait until every call has started, then give the last one 2 s.
    while (started < 300) await new Promise((resolve) => setTimeout(resolve, 10));
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, lastStartedAt + 2000 - performance.now())));
    assert.equal(pending, 0, `${pending} calls were still pending 2 s after the last one started`);
    await Promise.all(running);
    assert.deepEqual(outcomes.other, []);
    assert.equal(outcomes.read + outcomes.timedOut, 300);
    assert.ok(outcomes.timedOut >= 1, 'some bodies stalled and timed out');
    assert.ok(served >= 10);
    const closing = performance.now();
    await c.close({ timeout: '1s' });
    assert.ok(performance.now() - closing < 2000, 'close() returned within its bound');
    assert.deepEqual(clientSocketsTo(new Set(upstreams.map((u) => u.port))), []);
    await Promise.all(upstreams.map((u) => u.close()));
  });
});
