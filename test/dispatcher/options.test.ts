// Options of meshkitDispatcher / meshkitInterceptor, route matching, and close/destroy.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { client, isMeshkitError, type Client } from '../../src/index.js';
import { meshkitDispatcher, meshkitInterceptor } from '../../src/dispatcher/index.js';
import { stallBody } from '../helpers/body-upstream.js';
import { startUpstreams, type Upstream } from '../helpers/upstream.js';

function refusedNaming(option: string, hint?: string): (error: unknown) => boolean {
  return (error) => isMeshkitError(error, 'ERR_INVALID_CONFIG') && String(error.details['option']) === option
    && (hint === undefined || error.message.includes(`did you mean \`${hint}\`?`));
}

describe('meshkitDispatcher options, routes and lifecycle', () => {
  let upstreams: Upstream[];
  let orders: Client;
  let other: Client;
  let agent: Agent;

  before(async () => {
    upstreams = await startUpstreams([{}, {}]);
    orders = client('orders').endpoints([(upstreams[0] as Upstream).address]).build();
    other = client('other').endpoints([(upstreams[1] as Upstream).address]).build();
    agent = new Agent();
  });
  after(async () => {
    await agent.close();
    await Promise.all([orders.close(), other.close()]);
    await Promise.all(upstreams.map((u) => u.close()));
  });

  it('refuses unknown keys and bad values with ERR_INVALID_CONFIG naming the option', () => {
    assert.throws(() => meshkitDispatcher({ route: {} } as never), refusedNaming('meshkitDispatcher.route', 'routes'));
    assert.throws(() => meshkitInterceptor({ routs: {} } as never), refusedNaming('meshkitInterceptor.routs', 'routes'));
    assert.throws(() => meshkitDispatcher({} as never), refusedNaming('meshkitDispatcher.routes'));
    assert.throws(() => meshkitDispatcher({ routes: {} }), refusedNaming('meshkitDispatcher.routes'));
    assert.throws(() => meshkitDispatcher({ routes: { 'http://orders/v1': orders } }), refusedNaming('meshkitDispatcher.routes.http://orders/v1'));
    assert.throws(() => meshkitDispatcher({ routes: { 'ftp://orders': orders } }), refusedNaming('meshkitDispatcher.routes.ftp://orders'));
    assert.throws(() => meshkitDispatcher({ routes: { 'http://orders': 'orders' as never } }), refusedNaming('meshkitDispatcher.routes.http://orders'));
    assert.throws(() => meshkitDispatcher({ routes: [{ origin: 'http://orders', client: orders }, { origin: 'http://orders:80', client: other }] }),
      refusedNaming('meshkitDispatcher.routes[1].origin'));
    assert.throws(() => meshkitDispatcher({ routes: [{ origin: 42 as never, client: orders }] }), refusedNaming('meshkitDispatcher.routes[0].origin'));
    assert.throws(() => meshkitDispatcher({ routes: [{ origin: 'http://orders', clients: orders } as never] }),
      refusedNaming('meshkitDispatcher.routes[0].clients', 'client'));
    assert.throws(() => meshkitDispatcher({ routes: { 'http://orders': orders }, fallback: {} as never }), refusedNaming('meshkitDispatcher.fallback'));
  });

  it('matches origins as URL.origin spells them, then predicates in order; the rest go to the fallback', async () => {
    const seen: string[] = [];
    const dispatcher = meshkitDispatcher({
      routes: [
        { origin: 'HTTP://Orders.Internal:80', client: orders },
        { origin: (origin) => (seen.push(origin), new URL(origin).hostname.endsWith('.other')), client: other },
      ],
      fallback: agent,
    });
    const viaUpper = await request('http://orders.internal/x', { dispatcher });
    assert.equal(await viaUpper.body.text(), `ok ${(upstreams[0] as Upstream).port}`);
    const viaPredicate = await request('http://svc.other:8080/y', { dispatcher });
    assert.equal(await viaPredicate.body.text(), `ok ${(upstreams[1] as Upstream).port}`);
    const unrouted = await request(`http://127.0.0.1:${(upstreams[1] as Upstream).port}/z`, { dispatcher });
    assert.equal(await unrouted.body.text(), `ok ${(upstreams[1] as Upstream).port}`);
    assert.deepEqual(seen, ['http://svc.other:8080', `http://127.0.0.1:${(upstreams[1] as Upstream).port}`]);
    assert.equal((upstreams[1] as Upstream).requests.at(-1)?.headers['x-meshkit-deadline'], undefined, 'the fallback request is untouched');
    await dispatcher.close();
  });

  it('folds one trailing dot of the host: orders. is the same DNS name as orders, so it is governed too', async () => {
    const dispatcher = meshkitDispatcher({
      routes: [{ origin: 'http://orders', client: orders }, { origin: 'http://other.internal.:8080', client: other }],
      fallback: agent,
    });
    for (const url of ['http://orders./a', 'http://ORDERS.:80/a']) {
      const res = await request(url, { dispatcher });
      assert.equal(await res.body.text(), `ok ${(upstreams[0] as Upstream).port}`, url);
    }
    // A route given with the dot matches the name without it, and the reverse.
    const viaDotted = await request('http://other.internal:8080/b', { dispatcher });
    assert.equal(await viaDotted.body.text(), `ok ${(upstreams[1] as Upstream).port}`);
    assert.throws(() => meshkitDispatcher({ routes: { 'http://orders': orders, 'http://orders.': other }, fallback: agent }),
      refusedNaming('meshkitDispatcher.routes.http://orders.'));
    // Predicates see the origin folded.
    const seen: string[] = [];
    const byPredicate = meshkitDispatcher({ routes: [{ origin: (origin) => (seen.push(origin), origin === 'http://svc.other'), client: other }], fallback: agent });
    const res = await request('http://svc.other./c', { dispatcher: byPredicate });
    assert.equal(await res.body.text(), `ok ${(upstreams[1] as Upstream).port}`);
    assert.deepEqual(seen, ['http://svc.other']);
    await Promise.all([dispatcher.close(), byPredicate.close()]);
  });

  it('a route predicate that throws fails that request with ERR_INVALID_CONFIG (blame local, the thrown value as cause), sending nothing', async () => {
    const bug = new SyntaxError('bad predicate');
    const dispatcher = meshkitDispatcher({
      routes: [
        { origin: 'http://orders', client: orders },
        { origin: (origin) => (origin.endsWith('.broken') ? JSON.parse('{bad') as boolean : origin.endsWith('.other')), client: other },
        { origin: (origin) => { if (origin.includes('throws')) throw bug; return false; }, client: other },
      ],
      fallback: agent,
    });
    const sent = upstreams.map((u) => u.requests.length);
    const error = await request('http://svc.broken/x', { dispatcher }).then(() => undefined, (e: unknown) => e);
    assert.ok(isMeshkitError(error, 'ERR_INVALID_CONFIG'), `got ${String(error)}`);
    assert.equal(error.blame, 'local');
    assert.equal(error.details['option'], 'meshkitDispatcher.routes[1].origin');
    assert.equal(error.details['origin'], 'http://svc.broken');
    assert.ok(error.cause instanceof SyntaxError);
    const second = await request('http://throws.example:8080/', { dispatcher }).then(() => undefined, (e: unknown) => e);
    assert.ok(isMeshkitError(second, 'ERR_INVALID_CONFIG') && second.cause === bug, `got ${String(second)}`);
    assert.equal(second.details['option'], 'meshkitDispatcher.routes[2].origin');
    // fetch hears of it too, as fetch reports a dispatcher's error.
    await assert.rejects(fetch('http://svc.broken/y', { dispatcher } as unknown as RequestInit), (e: unknown) => isMeshkitError((e as Error).cause, 'ERR_INVALID_CONFIG'));
    assert.deepEqual(upstreams.map((u) => u.requests.length), sent, 'nothing was sent');
    // Requests the routes decide without the failing predicate go on: exact routes and origins a predicate takes first.
    const exact = await request('http://orders/ok', { dispatcher });
    assert.equal(await exact.body.text(), `ok ${(upstreams[0] as Upstream).port}`);
    const matched = await request('http://svc.other/ok', { dispatcher });
    assert.equal(await matched.body.text(), `ok ${(upstreams[1] as Upstream).port}`);
    assert.equal(dispatcher.inFlight, 0);
    await dispatcher.close();
  });

  it('a governed request with a bad path fails through its handler with ERR_INVALID_ARGUMENT, sending nothing', async () => {
    const dispatcher = meshkitDispatcher({ routes: { 'http://orders': orders }, fallback: agent });
    const sent = (upstreams[0] as Upstream).requests.length;
    for (const path of [undefined, 'no-slash']) {
      const error = await new Promise<Error>((resolve) => {
        dispatcher.dispatch({ origin: 'http://orders', path: path as never, method: 'GET' }, {
          onError: resolve,
          onHeaders: () => true,
          onData: () => true,
          onComplete: () => resolve(new Error('completed')),
        });
      });
      assert.ok(isMeshkitError(error, 'ERR_INVALID_ARGUMENT') && error.blame === 'caller', `${String(path)}: ${String(error)}`);
    }
    assert.equal((upstreams[0] as Upstream).requests.length, sent);
    assert.equal(dispatcher.inFlight, 0);
    await dispatcher.close();
  });

  it('close() waits for a governed body in flight, then refuses every request with ERR_CLIENT_CLOSED', async () => {
    const dispatcher = meshkitDispatcher({ routes: { 'http://orders': orders }, fallback: agent });
    let finish: (() => void) | undefined;
    (upstreams[0] as Upstream).handler = (_req, res) => {
      res.writeHead(200, { 'content-length': '6' });
      res.write('abc');
      finish = () => res.end('def');
    };
    const { body } = await request('http://orders/slow', { dispatcher });
    let closed = false;
    const closing = dispatcher.close().then(() => {
      closed = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(closed, false, 'close waits for the body in flight');
    assert.equal(dispatcher.inFlight, 1);
    finish?.();
    assert.equal(await body.text(), 'abcdef');
    await closing;
    assert.equal(dispatcher.closed, true);
    await assert.rejects(request('http://orders/x', { dispatcher }), (error) => isMeshkitError(error, 'ERR_CLIENT_CLOSED'));
    await assert.rejects(request(`http://127.0.0.1:${(upstreams[1] as Upstream).port}/`, { dispatcher }),
      (error) => isMeshkitError(error, 'ERR_CLIENT_CLOSED'));
    (upstreams[0] as Upstream).handler = undefined;
  });

  it('destroy(reason) aborts a governed body in flight with that reason', async () => {
    const dispatcher = meshkitDispatcher({ routes: { 'http://orders': orders }, fallback: agent });
    (upstreams[0] as Upstream).handler = (_req, res) => stallBody(res);
    const { body } = await request('http://orders/stall', { dispatcher });
    const reason = new Error('shutting down');
    await dispatcher.destroy(reason);
    await assert.rejects(body.text(), (error) => error === reason);
    assert.equal(dispatcher.inFlight, 0);
    assert.equal(orders.activeCalls, 0);
    (upstreams[0] as Upstream).handler = undefined;
  });
});
