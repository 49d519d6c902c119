import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { client, isMeshkitError, runWithInbound, type Client } from '../../src/index.js';
import { systemClock } from '../../src/core/clock.js';
import { endpointRecord, readError, stallBody, streamBody, streamedText, watchServerSockets, type ServerSockets } from '../helpers/body-upstream.js';
import { clientSocketsTo } from '../helpers/resources.js';
import { trackUnhandledRejections } from '../helpers/unhandled.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

describe('response bodies stay within the call\'s bounds (request())', () => {
  let upstream: Upstream;
  let sockets: ServerSockets;
  const unhandled = trackUnhandledRejections();
  before(async () => {
    upstream = await startUpstream();
    sockets = watchServerSockets(upstream.server);
    upstream.handler = (req, res) => {
      if (req.url?.startsWith('/stream') === true) streamBody(res, 8, 100);
      else if (req.url?.startsWith('/stall') === true) stallBody(res);
      else res.end('ok');
    };
  });
  after(async () => {
    unhandled.stop();
    assert.deepEqual(unhandled.reasons, [], 'no unhandled rejection');
    await upstream.close();
  });

  it('the total deadline errors a stalled body with ERR_DEADLINE_EXCEEDED, closes its connection and charges nobody', async () => {
    await using c = client('orders').endpoints([upstream.address]).timeout({ total: '500ms' })
      .outlierDetection({ consecutiveGatewayFailures: 5 }).build();
    const closedBefore = sockets.closed;
    const started = performance.now();
    const res = await c.request({ path: '/stall' });
    assert.equal(res.statusCode, 200);
    const error = await readError(res.body.text());
    const elapsed = performance.now() - started;
    assert.ok(isMeshkitError(error, 'ERR_DEADLINE_EXCEEDED'), `got ${String(error)}`);
    assert.deepEqual(error.details, { service: 'orders', endpoint: upstream.address, attempt: 1 });
    assert.ok(elapsed >= 450 && elapsed < 1500, `the read ended ${elapsed.toFixed(0)} ms after the call started (deadline 500 ms)`);
    await sockets.closedAtLeast(closedBefore + 1);
    const record = endpointRecord(c);
    assert.equal(record.failures, 0, 'the caller\'s deadline is not the endpoint\'s failure');
    assert.ok(record.latencyMs < 250, `the balancer saw no slow outcome (latency estimate ${record.latencyMs} ms)`);
    assert.equal(record.inFlight, 0);
  });

  it('a per-call timeout and an inherited inbound deadline bound the body too', async () => {
    await using c = client('orders').endpoints([upstream.address]).build();
    let started = performance.now();
    const res = await c.request({ path: '/stall', timeout: '300ms' });
    let error = await readError(res.body.text());
    assert.ok(isMeshkitError(error, 'ERR_DEADLINE_EXCEEDED'), `got ${String(error)}`);
    assert.ok(performance.now() - started < 1300);

    started = performance.now();
    const inherited = await runWithInbound({ deadline: systemClock.now() + 300 }, () => c.request({ path: '/stall' }));
    error = await readError(inherited.body.text());
    assert.ok(isMeshkitError(error, 'ERR_DEADLINE_EXCEEDED'), `got ${String(error)}`);
    assert.ok(performance.now() - started < 1300);
  });

  it('a per-call timeout running out in the body is the caller\'s, unless an attempt before had failed by the upstream\'s doing', async () => {
    await using c = client('orders').endpoints([upstream.address]).retry({ attempts: 2, backoff: { base: 1, cap: 1 } }).build();
    let res = await c.request({ path: '/stall', timeout: '300ms' });
    let error = await readError(res.body.text());
    assert.ok(isMeshkitError(error, 'ERR_DEADLINE_EXCEEDED'), `got ${String(error)}`);
    assert.equal(error.blame, 'caller');
    // The first answer is a 503, the retry's body stalls: the upstream failed this call before its deadline ran out.
    let served = 0;
    const handler = upstream.handler;
    upstream.handler = (req, res) => {
      if (served++ === 0) {
        res.statusCode = 503;
        res.end();
      } else stallBody(res);
    };
    try {
      res = await c.request({ path: '/stall', timeout: '300ms' });
      assert.equal(res.statusCode, 200);
      error = await readError(res.body.text());
      assert.ok(isMeshkitError(error, 'ERR_DEADLINE_EXCEEDED'), `got ${String(error)}`);
      assert.equal(error.blame, 'upstream');
      assert.equal(served, 2);
    } finally {
      upstream.handler = handler;
    }
  });

  it('the caller\'s abort errors the body with ERR_ABORTED (cause: the reason), closes its connection and charges nobody', async () => {
    await using c = client('orders').endpoints([upstream.address]).timeout({ total: '10s' })
      .outlierDetection({ consecutiveGatewayFailures: 5 }).build();
    const controller = new AbortController();
    const reason = new Error('the user went away');
    const closedBefore = sockets.closed;
    const res = await c.request({ path: '/stall', signal: controller.signal });
    const started = performance.now();
    setTimeout(() => controller.abort(reason), 100);
    const error = await readError(res.body.text());
    assert.ok(performance.now() - started < 1000, 'the read ends at the abort');
    assert.ok(isMeshkitError(error, 'ERR_ABORTED'), `got ${String(error)}`);
    assert.equal(error.cause, reason);
    assert.deepEqual(error.details, { service: 'orders', endpoint: upstream.address, attempt: 1 });
    await sockets.closedAtLeast(closedBefore + 1);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0, 'nothing listens to the signal any more');
    const record = endpointRecord(c);
    assert.equal(record.failures, 0, 'the caller\'s abort is not the endpoint\'s failure');
    assert.ok(record.latencyMs < 250, `the balancer saw no slow outcome (latency estimate ${record.latencyMs} ms)`);
  });

  it('reads a body that keeps flowing within the bounds whole, chunk by chunk, and then lets go of the signal', async () => {
    // Eight chunks 100 ms apart: about 0.7 s in all, past the per-try timeout but never stalled for it.
    await using c = client('orders').endpoints([upstream.address]).timeout({ perTry: '300ms', total: '5s' }).build();
    const controller = new AbortController();
    const res = await c.request({ path: '/stream', signal: controller.signal });
    assert.equal(getEventListeners(controller.signal, 'abort').length, 1, 'the caller\'s signal still governs the body');
    const chunks: string[] = [];
    for await (const chunk of res.body) chunks.push(String(chunk));
    assert.ok(chunks.length > 1, `the body came in ${chunks.length} chunks`);
    assert.equal(chunks.join(''), streamedText(8));
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0, 'released once the body was read');
    // The deadline entry went with the body: an abort now touches nothing.
    controller.abort();
    const again = await c.request({ path: '/' });
    assert.equal(await again.body.text(), 'ok');
  });

  it('close({ timeout }) returns within its bound while a body is stalled, fails the read with ERR_CLIENT_CLOSED and leaves no socket', async () => {
    const c = client('orders').endpoints([upstream.address]).build();
    const closedBefore = sockets.closed;
    const res = await c.request({ path: '/stall' });
    const reading = readError(res.body.text());
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = performance.now();
    await c.close({ timeout: '300ms' });
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 250 && elapsed < 1300, `close() took ${elapsed.toFixed(0)} ms (bound 300 ms)`);
    const error = await reading;
    assert.ok(isMeshkitError(error, 'ERR_CLIENT_CLOSED'), `got ${String(error)}`);
    assert.deepEqual(clientSocketsTo(new Set([upstream.port])), [], 'no client socket to the upstream survives close()');
    await sockets.closedAtLeast(closedBefore + 1);
  });

  it('close() still lets a body that finishes within the bound be read whole', async () => {
    const c = client('orders').endpoints([upstream.address]).build();
    const res = await c.request({ path: '/stream' });
    const reading = res.body.text();
    await c.close({ timeout: '5s' });
    assert.equal(await reading, streamedText(8));
  });
});
