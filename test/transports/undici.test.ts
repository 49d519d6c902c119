import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { client, isMeshkitError, roundRobin, undiciTransport, type Resolver, type ResolverListener } from '../../src/index.js';
import { toEndpoint } from '../../src/core/endpoint.js';
import { UndiciTransport } from '../../src/transports/undici.js';
import { closedPort, startUpstreams, type Upstream } from '../helpers/upstream.js';

describe('undici transport', () => {
  it('keeps connections alive: sequential requests reuse their socket', async (t) => {
    const [up] = (await startUpstreams([{}])) as [Upstream];
    t.after(() => up.close());
    const sockets = new Set<unknown>();
    up.server.on('connection', (socket) => sockets.add(socket));
    await using c = client('keepalive').endpoints([up.address]).build();
    for (let i = 0; i < 20; i++) await (await c.request({ path: '/' })).body.text();
    // A socket may be handed back a moment after the body ends, so allow a second one; never one per request.
    assert.ok(sockets.size <= 2, `${sockets.size} sockets for 20 requests`);
  });

  it('bounds connections per endpoint', async (t) => {
    const [up] = (await startUpstreams([{ delayMs: 30 }])) as [Upstream];
    t.after(() => up.close());
    const sockets = new Set<unknown>();
    up.server.on('connection', (socket) => sockets.add(socket));
    await using c = client('bounded').endpoints([up.address]).transport(undiciTransport({ connections: 2 })).build();
    await Promise.all(Array.from({ length: 10 }, async () => (await c.request({ path: '/' })).body.dump()));
    assert.equal(sockets.size, 2);
  });

  it('an attempt aborted while its request waits for a connection is never sent', async (t) => {
    const [up] = (await startUpstreams([{ delayMs: 200 }])) as [Upstream];
    t.after(() => up.close());
    await using c = client('queued').endpoints([up.address]).transport(undiciTransport({ connections: 1 })).build();
    const first = c.request({ path: '/first' });
    const controller = new AbortController();
    const second = c.request({ path: '/second', signal: controller.signal });
    setTimeout(() => controller.abort(new Error('changed my mind')), 20);
    await assert.rejects(second, (error: unknown) => isMeshkitError(error, 'ERR_ABORTED'));
    await (await first).body.dump();
    // The connection is free again: the aborted request would have gone out now if it was still queued.
    await (await c.request({ path: '/third' })).body.dump();
    assert.deepEqual(up.requests.map((r) => r.url), ['/first', '/third']);
  });

  it('closes the pool of an endpoint that leaves the set, after its requests finish', async (t) => {
    const ups = await startUpstreams([{}, { delayMs: 80 }]);
    t.after(() => Promise.all(ups.map((u) => u.close())));
    const [a, b] = ups as [Upstream, Upstream];
    let listener: ResolverListener | undefined;
    const endpointsOf = (list: Upstream[]) => list.map((u) => toEndpoint(u.address, 'e'));
    const dynamic: Resolver = {
      source: 'test',
      subscribe: (l) => {
        listener = l;
        l.onUpdate({ endpoints: endpointsOf(ups), source: 'test' });
        return () => {};
      },
    };
    const bClosed = new Promise<void>((resolve) => b.server.on('connection', (socket) => socket.on('close', () => resolve())));
    await using c = client('leaving').discovery(dynamic).build();
    const responses = await Promise.all([c.request({ path: '/' }), c.request({ path: '/' })]);
    const inFlight = c.request({ path: '/' }); // next in round robin
    // b leaves while (possibly) serving: its request must still complete.
    listener?.onUpdate({ endpoints: endpointsOf([a]), source: 'test' });
    const last = await inFlight;
    assert.equal(last.statusCode, 200);
    for (const res of [...responses, last]) await res.body.dump();
    await bClosed; // the departed endpoint's socket was closed by meshkit
    for (let i = 0; i < 4; i++) assert.equal(await (await c.request({ path: '/' })).body.text(), `ok ${a.port}`);
  });

  it('wraps a refused connection in ERR_UPSTREAM with the call\'s context, the original code on the cause', async () => {
    const ports = [await closedPort(), await closedPort()];
    await using c = client('refused').endpoints(ports.map((port) => `127.0.0.1:${port}`)).retry({ attempts: 2, backoff: { base: 1, cap: 1 } }).build();
    const error = await c.request({ path: '/' }).then(() => undefined, (e: unknown) => e);
    assert.ok(isMeshkitError(error, 'ERR_UPSTREAM'), `a MeshkitError, not ${String(error)}`);
    assert.equal(error.service, 'refused');
    assert.equal(error.attempts, 2, 'both endpoints were tried');
    assert.ok(ports.some((port) => error.endpoint === `127.0.0.1:${port}`), `the last endpoint tried: ${error.endpoint}`);
    assert.equal(error.details['reason'], 'connect');
    assert.equal((error.cause as { code?: string }).code, 'ECONNREFUSED', 'the original error, with its own code, is the cause');
    assert.equal(error.blame, 'upstream');
  });

  it('opens a pool per endpoint on first use and releases them all on close', async (t) => {
    const ups = await startUpstreams([{}, {}]);
    t.after(() => Promise.all(ups.map((u) => u.close())));
    const transport = new UndiciTransport({ protocol: 'http', connections: 4, pipelining: 1, keepAliveTimeout: 1000, connectTimeout: 1000, tls: undefined });
    const c = client('pools').endpoints(ups.map((u) => u.address)).balancer(roundRobin()).transport({ name: 'test', create: () => transport }).build();
    assert.equal(transport.openPools, 0);
    for (let i = 0; i < 2; i++) await (await c.request({ path: '/' })).body.dump();
    assert.equal(transport.openPools, 2);
    await c.close();
    assert.equal(transport.openPools, 0);
  });
});
