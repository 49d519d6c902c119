// A module that imports only undici (request, stream, pipeline) is governed once the
// global dispatcher is meshkit's: discovery, retry elsewhere, the deadline header.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { connect, getGlobalDispatcher, setGlobalDispatcher, upgrade, type Dispatcher } from 'undici';
import { client, DEADLINE_HEADER, isMeshkitError, roundRobin, type Client } from '../../src/index.js';
import { meshkitDispatcher, type MeshkitDispatcher } from '../../src/dispatcher/index.js';
import { startUpstreams, type Upstream } from '../helpers/upstream.js';
import { downloadOrders, getOrder, uploadLines } from './fixtures/orders-sdk.js';

describe('an undici-only SDK under meshkitDispatcher', () => {
  let upstreams: Upstream[];
  let orders: Client;
  let dispatcher: MeshkitDispatcher;
  let previous: Dispatcher;

  before(async () => {
    upstreams = await startUpstreams([{}, {}]);
    orders = client('orders').endpoints(upstreams.map((u) => u.address)).balancer(roundRobin())
      .timeout({ total: '3s' }).retry({ attempts: 2, budget: false }).build();
    previous = getGlobalDispatcher();
    dispatcher = meshkitDispatcher({ routes: { 'http://orders': orders } });
    setGlobalDispatcher(dispatcher);
  });
  after(async () => {
    setGlobalDispatcher(previous);
    await dispatcher.close();
    await orders.close();
    await Promise.all(upstreams.map((u) => u.close()));
  });
  afterEach(() => {
    for (const upstream of upstreams) {
      upstream.requests.length = 0;
      upstream.behaviour = {};
      upstream.handler = undefined;
    }
  });

  it('undici.request: governed, retried on the other instance', async () => {
    (upstreams[0] as Upstream).behaviour = { status: 503 };
    for (let i = 0; i < 3; i++) {
      const { status, text } = await getOrder(String(i));
      assert.equal(status, 200);
      assert.equal(text, `ok ${(upstreams[1] as Upstream).port}`);
    }
    const healthy = (upstreams[1] as Upstream).requests;
    assert.deepEqual(healthy.map((r) => r.url), ['/v1/orders/0', '/v1/orders/1', '/v1/orders/2']);
    assert.ok(healthy.every((r) => Number(r.headers[DEADLINE_HEADER]) <= 3000));
  });

  it('undici.stream: the body reaches the SDK sink', async () => {
    for (const upstream of upstreams) upstream.behaviour = { body: 'x'.repeat(200_000) };
    assert.equal(await downloadOrders(), 'x'.repeat(200_000));
  });

  it('undici.pipeline: the request body streams up, the response streams down', async () => {
    for (const upstream of upstreams) upstream.handler = (_req, res, body) => res.end(body.toUpperCase());
    assert.equal(await uploadLines(['a', 'b', 'c']), 'A\nB\nC\n');
    const seen = upstreams.flatMap((u) => u.requests);
    assert.deepEqual(seen.map((r) => [r.method, r.url, r.body]), [['POST', '/v1/lines', 'a\nb\nc\n']]);
  });

  it('refuses an upgrade and CONNECT to a routed origin with ERR_INVALID_ARGUMENT, sending nothing', async () => {
    await assert.rejects(upgrade('http://orders/ws', { protocol: 'websocket' }),
      (error) => isMeshkitError(error, 'ERR_INVALID_ARGUMENT') && error.blame === 'caller' && /upgrade/.test(error.message));
    await assert.rejects(connect('http://orders/'),
      (error) => isMeshkitError(error, 'ERR_INVALID_ARGUMENT') && /CONNECT/.test(error.message));
    assert.equal(upstreams.flatMap((u) => u.requests).length, 0);
    assert.equal(dispatcher.inFlight, 0);
  });
});
