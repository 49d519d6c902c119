import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import {
  client, currentInbound, DEADLINE_HEADER, inboundRemainingMs, isMeshkitError, vegas, type Client, type HealthCheck, type Registrar, type ServiceInstance,
} from '../../src/index.js';
import { meshkit } from '../../src/fastify/index.js';
import { LoadShedder } from '../../src/server/index.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';
import { call, sleep } from '../server/http-call.js';

interface Seen {
  remaining: number;
  service: string | undefined;
  afterAwait: number;
  inTimer: number;
  body: unknown;
}

/** An app whose /orders handler records what it sees of the inbound context, awaits, then calls the upstream through meshkit. */
async function ordersApp(orders: Client, seen: Seen[], runs: { count: number }): Promise<FastifyInstance> {
  const app = Fastify();
  await app.register(meshkit, { service: 'orders-api', lifecycle: { signals: [] } });
  const handler = async (request: { body: unknown }): Promise<unknown> => {
    runs.count++;
    const remaining = inboundRemainingMs();
    await sleep(10);
    const afterAwait = inboundRemainingMs();
    const inTimer = await new Promise<number>((resolve) => setTimeout(() => resolve(inboundRemainingMs()), 5));
    seen.push({ remaining, service: currentInbound()?.service, afterAwait, inTimer, body: request.body });
    const res = await orders.request({ path: '/v1/orders/42' });
    return { upstream: await res.body.text() };
  };
  app.get('/orders', handler);
  app.post('/orders', handler);
  return app;
}

describe('meshkit/fastify plugin: deadline and context', () => {
  let upstream: Upstream;
  let orders: Client;
  before(async () => {
    upstream = await startUpstream({ delayMs: 10 });
    orders = client('orders').endpoints([upstream.address]).build();
  });
  after(async () => {
    await orders.close();
    await upstream.close();
  });

  for (const mode of ['inject', 'listening'] as const) {
    it(`${mode}: a 300 ms deadline reaches the handler (after awaits and timers, with and without a body) and the upstream sees a smaller one`, async (t) => {
      const seen: Seen[] = [];
      const runs = { count: 0 };
      const app = await ordersApp(orders, seen, runs);
      t.after(() => app.close());
      let send: (method: 'GET' | 'POST', headers: Record<string, string>, body?: string) => Promise<{ status: number; body: string }>;
      if (mode === 'inject') {
        send = async (method, headers, body) => {
          const res = await app.inject({ method, url: '/orders', headers, ...(body === undefined ? {} : { payload: body }) });
          return { status: res.statusCode, body: res.body };
        };
      } else {
        const address = await app.listen({ port: 0, host: '127.0.0.1' });
        send = (method, headers, body) => call(`${address}/orders`, { method, headers, ...(body === undefined ? {} : { body }) });
      }
      await send('GET', {}); // warm up: a cold first request must not eat the 300 ms
      for (const method of ['GET', 'POST'] as const) {
        const before = upstream.requests.length;
        const answer = await send(method, { [DEADLINE_HEADER]: '300', ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) },
          method === 'POST' ? '{"id":7}' : undefined);
        assert.equal(answer.status, 200, answer.body);
        const handled = seen.at(-1);
        assert.ok(handled !== undefined);
        assert.equal(handled.service, 'orders-api');
        assert.ok(handled.remaining > 0 && handled.remaining <= 300, `${method}: handler saw ${handled.remaining}`);
        assert.ok(handled.afterAwait < handled.remaining && handled.inTimer < handled.afterAwait, `${method}: the context survives awaits and timers`);
        if (method === 'POST') assert.deepEqual(handled.body, { id: 7 });
        const header = Number(upstream.requests[before]?.headers[DEADLINE_HEADER]);
        assert.ok(header > 0 && header < 300 && header <= handled.inTimer, `${method}: upstream saw ${header} (handler had ${handled.inTimer})`);
      }

      // A caller asking for 31 years gets 5 minutes (deadline.max's default), and is counted.
      const clampedBefore = app.meshkit.inbound.clampedDeadlines;
      assert.equal((await send('GET', { [DEADLINE_HEADER]: '999999999999' })).status, 200);
      const asked = seen.at(-1)?.remaining ?? Infinity;
      assert.ok(asked <= 300_000 && asked > 290_000, `the handler saw ${asked} ms`);
      assert.equal(app.meshkit.inbound.clampedDeadlines, clampedBefore + 1);

      const runsBefore = runs.count;
      const before = upstream.requests.length;
      const expired = await send('GET', { [DEADLINE_HEADER]: '0' });
      assert.equal(expired.status, 504);
      assert.equal((JSON.parse(expired.body) as { code: string }).code, 'ERR_DEADLINE_EXCEEDED');
      assert.equal(runs.count, runsBefore, 'the handler never ran');
      assert.equal(upstream.requests.length, before);

      assert.equal((await send('GET', {})).status, 200);
      assert.equal(seen.at(-1)?.remaining, Infinity, 'no header, no deadline');
      assert.equal((await send('GET', { 'grpc-timeout': 'soon' })).status, 200);
      assert.equal(seen.at(-1)?.remaining, Infinity, 'a malformed header counts as absent');
      assert.deepEqual(app.meshkit.inbound.snapshot(), { kind: 'inbound', malformedDeadlines: 1, clampedDeadlines: 1, expiredDeadlines: 1 });
      assert.equal(currentInbound(), undefined, 'nothing leaks out of a request');
    });
  }

  it('is encapsulation-aware: registered in a child scope it covers that scope only', async (t) => {
    const app = Fastify();
    t.after(() => app.close());
    const remaining: Record<string, number> = {};
    await app.register(async (scope) => {
      await scope.register(meshkit, { lifecycle: { signals: [] }, health: false });
      scope.get('/inside', async () => {
        remaining['inside'] = inboundRemainingMs();
        return 'inside';
      });
    });
    app.get('/outside', async () => {
      remaining['outside'] = inboundRemainingMs();
      return 'outside';
    });
    await app.ready();
    assert.equal((await app.inject({ url: '/inside', headers: { [DEADLINE_HEADER]: '500' } })).statusCode, 200);
    assert.equal((await app.inject({ url: '/outside', headers: { [DEADLINE_HEADER]: '500' } })).statusCode, 200);
    assert.ok((remaining['inside'] ?? Infinity) <= 500);
    assert.equal(remaining['outside'], Infinity);
    assert.equal((await app.inject({ url: '/outside', headers: { [DEADLINE_HEADER]: '0' } })).statusCode, 200, 'not covered: no 504');
    assert.equal((await app.inject({ url: '/inside', headers: { [DEADLINE_HEADER]: '0' } })).statusCode, 504);
    assert.equal(app.hasDecorator('meshkit'), false, 'the decoration stays in its scope');
  });

  it('a second registration below the first adds its own shedding and reuses the lifecycle', async (t) => {
    const app = Fastify();
    t.after(() => app.close());
    await app.register(meshkit, { lifecycle: { signals: [] } });
    const shedder = new LoadShedder({ algorithm: vegas({ initialLimit: 1, maxLimit: 1 }) });
    let release: () => void = () => {};
    await app.register(async (scope) => {
      await scope.register(meshkit, { shedding: shedder, deadline: { max: '1s' } });
      assert.equal(scope.meshkit, app.meshkit);
      scope.get('/hold', (_request, reply) => {
        release = () => void reply.send('held');
      });
    });
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    const held = call(`${address}/hold`);
    while (shedder.inFlight === 0) await sleep(5);
    const refused = await call(`${address}/hold`);
    assert.equal(refused.status, 503);
    assert.equal(refused.headers['retry-after'], '1');
    assert.equal((JSON.parse(refused.body) as { code: string }).code, 'ERR_LIMIT_EXCEEDED');
    const injected = await app.inject({ url: '/hold' });
    assert.equal(injected.statusCode, 503, 'inject goes through the same hooks');
    assert.equal((await call(`${address}/health/ready`)).status, 200, 'health routes are never shed');
    assert.equal(app.meshkit.shedder, undefined, 'the first registration does not shed');
    assert.equal(shedder.snapshot().refused, 2);
    release();
    assert.equal((await held).status, 200);
    assert.equal(shedder.refused, 2);
  });

  it('rejects bad options with ERR_INVALID_CONFIG', async () => {
    for (const [options, option] of [
      [{ shedding: { retryAfter: -1 } }, 'meshkit.shedding.retryAfter'],
      [{ health: { readiness: 'ready' } }, 'meshkit.health.readiness'],
      [{ deadline: { default: 'never' } }, 'meshkit.deadline.default'],
      [{ lifecycle: { drainTimeout: 'long' } }, 'lifecycle.drainTimeout'],
      [{ colour: 'blue' }, 'meshkit.colour'],
      [{ deadline: { max: '1000h' } }, 'meshkit.deadline.max'],
      [{ lifecycle: { drainTimeout: '1000h' } }, 'lifecycle.drainTimeout'],
      [{ shedding: { algorithim: {} } }, 'meshkit.shedding.algorithim'],
      [{ sheding: {} }, 'did you mean `shedding`'],
    ] as const) {
      const app = Fastify();
      await assert.rejects(async () => {
        await app.register(meshkit, options as never);
        await app.ready();
      }, (e) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.message.includes(option), option);
      await app.close();
    }
  });
});

/** A registrar that records the order of events; the real Consul path is in test/server/sigterm-consul.test.ts. */
function recordingRegistrar(log: string[]): Registrar {
  return {
    kind: 'recording',
    async register(instance: ServiceInstance, _check?: HealthCheck) {
      log.push(`register ${instance.address}:${instance.port}`);
      return { id: 'i-1', instance, deregister: async () => { log.push('deregister'); } };
    },
  };
}

describe('meshkit/fastify plugin: health and lifecycle', () => {
  it('leave() (the first step of SIGTERM) turns readiness 503 while every other route still serves', async (t) => {
    const app = Fastify();
    await app.register(meshkit, { lifecycle: { signals: [], propagationDelay: 0 }, health: { liveness: '/livez', readiness: '/readyz' } });
    app.get('/work', async () => 'done');
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    t.after(() => app.close());
    assert.equal((await call(`${address}/readyz`)).status, 200);
    await app.meshkit.lifecycle.leave();
    const ready = await call(`${address}/readyz`);
    assert.equal(ready.status, 503);
    assert.equal((JSON.parse(ready.body) as { status: string }).status, 'draining');
    assert.equal(ready.headers['connection'], 'close', 'draining responses close their connection');
    assert.equal((await call(`${address}/livez`)).status, 200);
    assert.equal((await call(`${address}/work`)).body, 'done');
  });

  it('registers on listen; readiness flips false while draining; fastify.close() deregisters before it stops accepting, lets in-flight requests finish, then closes clients', async (t) => {
    const log: string[] = [];
    const app = Fastify();
    const clientClosed = { value: false };
    await app.register(meshkit, {
      lifecycle: { signals: [], clients: [{ close: async () => { log.push('client closed'); clientClosed.value = true; } }] },
      register: { registrar: recordingRegistrar(log), instance: { service: 'orders' } },
    });
    let finishSlow: () => void = () => {};
    let slowStarted = false;
    app.get('/slow', async () => {
      slowStarted = true;
      await new Promise<void>((resolve) => {
        finishSlow = resolve;
      });
      return 'slow done';
    });
    assert.equal(app.meshkit.lifecycle.state as string, 'starting', 'not ready before start');
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    t.after(() => app.close());
    const registration = await app.meshkit.registered();
    assert.equal(registration?.instance.port, app.server.address() !== null ? (app.server.address() as { port: number }).port : -1);
    assert.deepEqual(JSON.parse((await call(`${address}/health/ready`)).body), { status: 'ok', state: 'ready', inFlight: 1 });
    assert.equal((await call(`${address}/health/live`)).status, 200);

    app.meshkit.lifecycle.subscribe((event) => log.push(event.type));
    const slow = call(`${address}/slow`);
    while (!slowStarted) await sleep(5);
    const closing = app.close();
    while (app.meshkit.lifecycle.state !== 'draining') await sleep(1);
    assert.equal(app.meshkit.lifecycle.ready, false);
    assert.equal(app.meshkit.lifecycle.live, true, 'still live while draining');
    await sleep(50);
    assert.equal(clientClosed.value, false, 'clients stay open while a request is in flight');
    finishSlow();
    const answer = await slow;
    assert.equal(answer.status, 200);
    assert.equal(answer.body, 'slow done');
    await closing;
    await assert.rejects(call(`${address}/health/live`), /ECONNREFUSED/);
    assert.deepEqual(log.filter((l) => !l.startsWith('register')), ['draining', 'deregister', 'deregistered', 'stopped-accepting', 'drained', 'client closed', 'closed']);
    assert.equal(app.meshkit.lifecycle.state, 'closed');
  });

  it('a caller that hangs up: its handler keeps its shedder slot, and the drain waits for it before closing the clients', async (t) => {
    const log: string[] = [];
    const app = Fastify();
    await app.register(meshkit, {
      shedding: { algorithm: vegas({ initialLimit: 1, maxLimit: 1 }) },
      lifecycle: { signals: [], propagationDelay: 0, clients: [{ close: async () => { log.push('client closed'); } }] },
    });
    let finishSlow: () => void = () => {};
    let answer: http.ServerResponse | undefined;
    app.get('/slow', async (_request, reply) => {
      answer = reply.raw;
      await new Promise<void>((resolve) => {
        finishSlow = resolve;
      });
      log.push('handler done');
      return 'slow done';
    });
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    t.after(() => app.close());
    const shedder = app.meshkit.shedder as LoadShedder;
    const req = http.request(`${address}/slow`, { agent: false });
    req.on('error', () => {}); // it hangs up on purpose
    req.end();
    while (answer === undefined) await sleep(1);
    req.destroy();
    while (!answer.destroyed) await sleep(1);
    assert.equal(shedder.inFlight, 1, 'the handler still runs');
    assert.equal(app.meshkit.lifecycle.inFlight, 1);
    assert.equal((await call(`${address}/slow`)).status, 503, 'maxLimit 1 holds');
    app.meshkit.lifecycle.subscribe((event) => log.push(event.type));
    const closing = app.close();
    await sleep(50);
    assert.deepEqual(log, ['draining', 'stopped-accepting'], 'the drain waits for the handler');
    finishSlow();
    await closing;
    assert.deepEqual(log, ['draining', 'stopped-accepting', 'handler done', 'drained', 'client closed', 'closed']);
    assert.equal(shedder.inFlight, 0);
  });
});
