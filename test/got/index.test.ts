import assert from 'node:assert/strict';
import type { Agent } from 'node:http';
import { Readable } from 'node:stream';
import { after, afterEach, before, describe, it } from 'node:test';
import { got, HTTPError, RequestError } from 'got';
import { client, DEADLINE_HEADER, isMeshkitError, roundRobin, toEndpoint, type Client, type Resolver } from '../../src/index.js';
import { meshkitGot } from '../../src/got/index.js';
import { settledResources, clientSocketsTo } from '../helpers/resources.js';
import { closedPort, startUpstreams, type Upstream } from '../helpers/upstream.js';

describe('meshkit/got', () => {
  let upstreams: Upstream[];
  let orders: Client;
  let api: ReturnType<typeof meshkitGot>;

  before(async () => {
    upstreams = await startUpstreams([{}, {}]);
    orders = client('orders')
      .endpoints(upstreams.map((u) => u.address))
      .balancer(roundRobin())
      .retry({ attempts: 3, backoff: { base: '1ms', cap: '2ms' }, budget: false })
      .build();
    api = meshkitGot(orders);
  });
  afterEach(() => {
    for (const upstream of upstreams) {
      upstream.behaviour = {};
      upstream.handler = undefined;
      upstream.requests.length = 0;
    }
  });
  after(async () => {
    await orders.close();
    await Promise.all(upstreams.map((u) => u.close()));
  });

  it('resolves service URLs through the client and parses json', async () => {
    for (const upstream of upstreams) {
      upstream.handler = (req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ port: upstream.port, url: req.url }));
      };
    }
    const seen = new Set<number>();
    for (let i = 0; i < 4; i++) {
      const body = await api.get('v1/orders/42?x=1').json<{ port: number; url: string }>();
      assert.equal(body.url, '/v1/orders/42?x=1');
      seen.add(body.port);
    }
    // Balanced over both endpoints; the host in the URL (orders) was never resolved.
    assert.deepEqual([...seen].sort(), upstreams.map((u) => u.port).sort());
    const absolute = await api.get('http://orders/v1/abs', { prefixUrl: '' }).json<{ url: string }>();
    assert.equal(absolute.url, '/v1/abs');
  });

  it('retries a 503 on another endpoint for idempotent requests; got retries nothing itself', async () => {
    const [failing, healthy] = upstreams as [Upstream, Upstream];
    failing.behaviour = { status: 503 };
    for (let i = 0; i < 4; i++) {
      const response = await api.get('v1/x', { retry: { limit: 5 } });
      assert.equal(response.statusCode, 200);
      assert.equal(response.body, `ok ${healthy.port}`);
    }
    assert.ok(failing.requests.length >= 1);
    assert.equal(healthy.requests.length, 4);
  });

  it('returns the final 503 to got: HTTPError with the body, beforeError hooks run once', async () => {
    for (const upstream of upstreams) upstream.behaviour = { status: 503, body: 'down' };
    let hookRuns = 0;
    const hooked = api.extend({
      hooks: {
        beforeError: [(error) => {
          hookRuns++;
          return error;
        }],
      },
    });
    await assert.rejects(hooked.get('v1/x'), (error: unknown) => {
      assert.ok(error instanceof HTTPError);
      assert.equal(error.response.statusCode, 503);
      assert.equal(error.response.body, 'down');
      return true;
    });
    assert.equal(hookRuns, 1);
    // meshkit made its 3 attempts (got none of its own).
    assert.equal(upstreams[0]!.requests.length + upstreams[1]!.requests.length, 3);
    const plain = await api.get('v1/x', { throwHttpErrors: false });
    assert.equal(plain.statusCode, 503);
  });

  it('does not retry a non-idempotent POST on 503, unless the context says it is idempotent', async () => {
    const [failing, healthy] = upstreams as [Upstream, Upstream];
    failing.behaviour = { status: 503 };
    healthy.behaviour = { status: 503 };
    await assert.rejects(api.post('v1/orders', { json: { n: 1 } }), HTTPError);
    assert.equal(failing.requests.length + healthy.requests.length, 1);
    healthy.behaviour = {};
    failing.requests.length = healthy.requests.length = 0;
    for (let i = 0; i < 2; i++) {
      const body = await api.post('v1/orders', { json: { n: i }, context: { meshkit: { idempotent: true } } }).text();
      assert.equal(body, `ok ${healthy.port}`);
    }
    // The JSON body got serialised is re-sent on the retry.
    for (const seen of [...failing.requests, ...healthy.requests]) {
      assert.match(seen.body, /^\{"n":\d\}$/);
      assert.equal(seen.headers['content-type'], 'application/json');
    }
  });

  it('sends a streamed body once and never retries it', async () => {
    const [failing, healthy] = upstreams as [Upstream, Upstream];
    failing.behaviour = { status: 503 };
    healthy.behaviour = { status: 503 };
    const response = await api.put('v1/upload', { body: Readable.from([Buffer.from('a'), Buffer.from('b')]), throwHttpErrors: false });
    assert.equal(response.statusCode, 503);
    assert.equal(failing.requests.length + healthy.requests.length, 1);
    assert.equal([...failing.requests, ...healthy.requests][0]?.body, 'ab');
  });

  it('runs got hooks and sends the deadline and the hooks headers', async () => {
    const seen: string[] = [];
    const hooked = api.extend({
      timeout: { request: 2000 },
      hooks: {
        beforeRequest: [(options) => {
          options.headers['x-from-hook'] = 'yes';
          seen.push('beforeRequest');
        }],
        afterResponse: [(response) => {
          seen.push(`afterResponse ${response.statusCode}`);
          return response;
        }],
      },
    });
    assert.match(await hooked.get('v1/hooks').text(), /^ok/);
    assert.deepEqual(seen, ['beforeRequest', 'afterResponse 200']);
    const request = [...upstreams[0]!.requests, ...upstreams[1]!.requests][0];
    assert.equal(request?.headers['x-from-hook'], 'yes');
    const deadline = Number(request?.headers[DEADLINE_HEADER]);
    assert.ok(deadline > 0 && deadline <= 2000, `deadline header ${deadline}`);
  });

  it('fails with ERR_DEADLINE_EXCEEDED when the call deadline passes (got timeout.request is the deadline)', async () => {
    for (const upstream of upstreams) upstream.behaviour = { delayMs: 1000 };
    await assert.rejects(api.get('v1/slow', { timeout: { request: 100 } }), (error: unknown) => {
      assert.ok(error instanceof RequestError);
      assert.equal(error.code, 'ERR_DEADLINE_EXCEEDED');
      assert.ok(isMeshkitError(error.cause, 'ERR_DEADLINE_EXCEEDED'));
      return true;
    });
  });

  it('streams responses (api.stream) and aborts with got\'s signal', async () => {
    for (const upstream of upstreams) {
      upstream.handler = (_req, res) => {
        res.writeHead(200);
        res.write('first;');
        setTimeout(() => res.end('second'), 20);
      };
    }
    let text = '';
    for await (const chunk of api.stream('v1/stream')) text += String(chunk);
    assert.equal(text, 'first;second');

    for (const upstream of upstreams) {
      upstream.handler = undefined;
      upstream.behaviour = { delayMs: 1000 };
    }
    const controller = new AbortController();
    const pending = api.get('v1/slow', { signal: controller.signal });
    setTimeout(() => controller.abort(), 30).unref();
    await assert.rejects(pending, (error: unknown) => error instanceof RequestError);
  });

  it('moves on from an endpoint that refuses connections, for any method', async () => {
    const refused = await closedPort();
    const c = client('orders').endpoints([`127.0.0.1:${refused}`, upstreams[0]!.address]).balancer(roundRobin()).build();
    const g = meshkitGot(c);
    try {
      for (let i = 0; i < 3; i++) assert.equal(await g.post('v1/x', { body: 'x' }).text(), `ok ${upstreams[0]!.port}`);
    } finally {
      await c.close();
    }
  });

  it('closes its sockets when the client closes', async () => {
    const baseline = await settledResources();
    const c = client('orders').endpoints(upstreams.map((u) => u.address)).build();
    const g = meshkitGot(c, { got: got.extend({ headers: { 'x-base': '1' } }) });
    await g.get('v1/a').text();
    await g.get('v1/b').text();
    assert.equal(upstreams.flatMap((u) => u.requests).every((r) => r.headers['x-base'] === '1'), true);
    const agent = g.defaults.options.agent.http as Agent;
    assert.ok(Object.keys(agent.freeSockets).length > 0, 'keep-alive sockets while open');
    await c.close();
    assert.ok(Object.values(agent.freeSockets).flat().every((socket) => socket?.destroyed === true));
    assert.deepEqual(clientSocketsTo(new Set(upstreams.map((u) => u.port))), []);
    assert.deepEqual(await settledResources(baseline), baseline);
  });

  it("keeps its idle sockets when another client of the same service name drops that endpoint", async () => {
    const target = upstreams[0]!;
    const ports: number[] = [];
    target.handler = (req, res) => {
      ports.push(req.socket.remotePort ?? 0);
      res.end('ok');
    };
    await using a = client('orders').endpoints([target.address]).build();
    const g = meshkitGot(a);
    assert.equal(await g.get('v1/a').text(), 'ok');
    // Another client named 'orders' whose discovery drops the endpoint a still uses.
    let push: ((list: readonly string[]) => void) | undefined;
    const pushed: Resolver = {
      source: 'pushed',
      subscribe(listener) {
        push = (list) => listener.onUpdate({ endpoints: list.map((e) => toEndpoint(e, 'test')), source: 'pushed' });
        push([target.address]);
        return () => { push = undefined; };
      },
    };
    await using b = client('orders').discovery(pushed).build();
    push?.([]);
    assert.equal(b.endpoints().endpoints.length, 0);
    const agent = g.defaults.options.agent.http as Agent;
    const idle = Object.values(agent.freeSockets).flat();
    assert.equal(idle.length, 1);
    assert.equal(idle[0]?.destroyed, false, "b's change is not a's");
    assert.equal(await g.get('v1/b').text(), 'ok');
    assert.equal(ports.length, 2);
    assert.equal(ports[1], ports[0], 'the second request reused the idle connection');
  });

  it('rejects bad arguments with ERR_INVALID_CONFIG', () => {
    assert.throws(() => meshkitGot({} as Client), (error: unknown) => isMeshkitError(error, 'ERR_INVALID_CONFIG'));
    assert.throws(() => meshkitGot(orders, { got: 42 as never }), (error: unknown) => isMeshkitError(error, 'ERR_INVALID_CONFIG'));
  });
});
