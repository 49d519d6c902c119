import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { client, isMeshkitError, roundRobin, subscribe, type AttemptEndMessage, type EndpointsMessage } from '../../src/index.js';
import { clientSocketsTo, settledResources } from '../helpers/resources.js';
import { activeResources, startUpstreams, type Upstream } from '../helpers/upstream.js';

describe('Client against real upstreams', () => {
  let upstreams: Upstream[] = [];
  before(async () => {
    upstreams = await startUpstreams([{}, {}, {}]);
  });
  after(async () => {
    await Promise.all(upstreams.map((u) => u.close()));
  });

  it('request() spreads calls round robin and returns undici responses', async () => {
    await using orders = client('orders').endpoints(upstreams.map((u) => u.address)).balancer(roundRobin()).build();
    const bodies: string[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await orders.request({ path: '/v1/orders/42', headers: { 'x-test': '1' } });
      assert.equal(res.statusCode, 200);
      bodies.push(await res.body.text());
    }
    const ports = new Set(bodies.map((b) => b.split(' ')[1]));
    assert.equal(ports.size, 3);
    for (const u of upstreams) assert.equal(bodies.filter((b) => b === `ok ${u.port}`).length, 2);
    const last = upstreams.flatMap((u) => u.requests).at(-1);
    assert.equal(last?.url, '/v1/orders/42');
    assert.equal(last?.headers['x-test'], '1');
  });

  it('request() sends method and body, defaults the path to /', async () => {
    const [first] = upstreams as [Upstream];
    await using c = client('svc').endpoints([first.address]).build();
    const res = await c.request({ method: 'POST', body: 'hello' });
    await res.body.dump();
    const seen = first.requests.at(-1);
    assert.deepEqual([seen?.method, seen?.url, seen?.body], ['POST', '/', 'hello']);
  });

  it('call() governs any async function with the picked endpoint', async () => {
    await using c = client('fn').endpoints(upstreams.map((u) => u.address)).balancer(roundRobin()).build();
    const ports = new Set<number>();
    for (let i = 0; i < 3; i++) ports.add(await c.call(async (endpoint, attempt) => {
      assert.equal(attempt.number, 1);
      assert.equal(attempt.endpoint, endpoint);
      return endpoint.port;
    }));
    assert.deepEqual([...ports].sort(), upstreams.map((u) => u.port).sort());
  });

  it('endpoints() shows the set, its source and age', async () => {
    await using c = client('svc').endpoints(upstreams.map((u) => u.address)).build();
    const snapshot = c.endpoints();
    assert.equal(snapshot.source, 'static');
    assert.equal(snapshot.endpoints.length, 3);
    assert.ok(snapshot.ageMs !== undefined && snapshot.ageMs >= 0);
  });

  it('publishes attempt and endpoint events on diagnostics channels', async () => {
    const attempts: AttemptEndMessage[] = [];
    const sets: EndpointsMessage[] = [];
    const stopAttempts = subscribe('attemptEnd', (message) => attempts.push(message));
    const stopSets = subscribe('endpoints', (message) => sets.push(message));
    try {
      await using c = client('events').endpoints([upstreams[0]?.address as string]).build();
      const res = await c.request({ path: '/' });
      await res.body.dump();
      const mine = attempts.filter((a) => a.call.service === 'events');
      assert.equal(mine.length, 1);
      assert.equal(mine[0]?.outcome?.reason, 'ok');
      assert.equal(mine[0]?.outcome?.status, 200);
      assert.ok((mine[0]?.duration ?? -1) >= 0);
      const set = sets.find((s) => s.service === 'events');
      assert.equal(set?.added.length, 1);
    } finally {
      stopAttempts();
      stopSets();
    }
  });

  it('rejects bad call arguments with ERR_INVALID_ARGUMENT', async () => {
    await using c = client('svc').endpoints([upstreams[0]?.address as string]).build();
    await assert.rejects(c.request({ path: 'no-slash' }), (e: unknown) => isMeshkitError(e, 'ERR_INVALID_ARGUMENT'));
    await assert.rejects(c.request({ path: '/', timeout: 'soon' }), (e: unknown) => isMeshkitError(e, 'ERR_INVALID_ARGUMENT'));
    await assert.rejects(c.call(42 as never), (e: unknown) => isMeshkitError(e, 'ERR_INVALID_ARGUMENT'));
  });
});

describe('Client.close()', () => {
  it('leaves no timers or sockets behind', async () => {
    const before = await settledResources();
    const upstreams = await startUpstreams([{}, { delayMs: 200 }]);
    const c = client('svc')
      .endpoints(upstreams.map((u) => u.address))
      .timeout({ perTry: '50ms', total: '1s' })
      .retry({ attempts: 3 })
      .build();
    // Exercise every stage: pools to both endpoints, a per-try timeout, a retry, the fetch and call paths.
    for (let i = 0; i < 4; i++) {
      const res = await c.request({ path: '/' });
      await res.body.dump();
    }
    await (await c.fetch('/')).text();
    await c.call(async () => 1, { timeout: '1s' });
    assert.ok(activeResources().length > before.length, 'the client held sockets while open');
    await c.close();
    const upstreamPorts = new Set(upstreams.map((u) => u.port));
    assert.deepEqual(clientSocketsTo(upstreamPorts), [], 'no client socket to an upstream survives close()');
    await Promise.all(upstreams.map((u) => u.close()));
    // Server-side sockets finish closing a little later; meshkit's own would never go.
    assert.deepEqual(await settledResources(before), before);
  });

  it('refuses new calls with ERR_CLIENT_CLOSED and is idempotent', async () => {
    const [upstream] = (await startUpstreams([{}])) as [Upstream];
    const c = client('svc').endpoints([upstream.address]).build();
    const first = c.close();
    assert.equal(c.close(), first);
    await first;
    await assert.rejects(c.request({ path: '/' }), (e: unknown) => isMeshkitError(e, 'ERR_CLIENT_CLOSED'));
    await assert.rejects(c.call(async () => 1), (e: unknown) => isMeshkitError(e, 'ERR_CLIENT_CLOSED'));
    await upstream.close();
  });

  it('lets calls in flight finish, then closes', async () => {
    const [upstream] = (await startUpstreams([{ delayMs: 100 }])) as [Upstream];
    const c = client('svc').endpoints([upstream.address]).build();
    const pending = c.request({ path: '/' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    await c.close();
    const res = await pending;
    assert.equal(res.statusCode, 200);
    assert.equal(await res.body.text(), `ok ${upstream.port}`);
    await upstream.close();
  });

  it('aborts calls still in flight after the drain timeout with ERR_CLIENT_CLOSED', async () => {
    const [upstream] = (await startUpstreams([{ delayMs: 5000 }])) as [Upstream];
    const c = client('svc').endpoints([upstream.address]).build();
    // Settle handlers are attached now so that no rejection is unhandled while close() runs.
    const pending = c.request({ path: '/' }).then(() => 'resolved', (error: unknown) => error);
    const hung = c.call(() => new Promise(() => {})).then(() => 'resolved', (error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const started = performance.now();
    await c.close({ timeout: '50ms' });
    assert.ok(performance.now() - started < 1000);
    assert.ok(isMeshkitError(await pending, 'ERR_CLIENT_CLOSED'));
    assert.ok(isMeshkitError(await hung, 'ERR_CLIENT_CLOSED'));
    await upstream.close();
  });
});
