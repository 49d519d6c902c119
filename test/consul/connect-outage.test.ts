/**
 * Consul Connect identities and intentions through an agent outage (a real
 * Consul dev agent, killed and started again): the last good identity stays
 * in use and is marked stale; the authorizer fails closed; an identity never
 * loaded refuses to connect.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, it } from 'node:test';
import { connectAuthorizer, connectIdentity } from '../../src/consul/index.js';
import { listen } from '../../src/express/index.js';
import { client, isMeshkitError, type IdentityEvent } from '../../src/index.js';
import { useConsul } from '../helpers/consul-server.js';
import { within } from './support.js';

describe('Consul Connect through an agent outage', () => {
  const registry = useConsul();

  it('keeps the last good identity while the agent is down (stale), fails closed on uncached callers, and recovers', async (t) => {
    const server = registry.need(t);
    if (server === undefined) return;
    const fast = { address: server.address, backoff: { base: '50ms', cap: '200ms' }, wait: '2s' } as const;
    const orders = connectIdentity({ service: 'orders', ...fast });
    const web = connectIdentity({ service: 'web', ...fast });
    const billing = connectIdentity({ service: 'billing', ...fast });
    t.after(() => Promise.all([orders.close(), web.close(), billing.close()]));
    await Promise.all([orders.ready(), web.ready(), billing.ready()]);
    const served = await listen((req: http.IncomingMessage, res: http.ServerResponse) => res.end(req.meshkit?.peer ?? ''), {
      identity: orders, authorize: connectAuthorizer({ service: 'orders', address: server.address, cacheTtl: '60s', timeout: '300ms' }),
      lifecycle: { signals: [] },
    });
    t.after(() => served.close());
    const webCalls = client('orders').endpoints([served.address]).identity(web).build();
    const billingCalls = client('orders').endpoints([served.address]).identity(billing).build();
    t.after(() => Promise.all([webCalls.close(), billingCalls.close()]));
    // web's decision is cached (60 s); billing has never called.
    assert.equal((await webCalls.request({ path: '/' })).statusCode, 200);
    const events: IdentityEvent[] = [];
    web.subscribe((event) => events.push(event));
    const kept = web.current();

    await server.kill();
    await within(5000, 'web is marked stale', () => web.status().stale);
    assert.equal(web.current(), kept, 'the last good identity stays in use');
    assert.ok(events.some((event) => event.type === 'stale'));
    assert.match(web.status().lastError ?? '', /connectIdentity\(web\)/);
    // mTLS keeps working on the kept identities; the cached decision still admits web.
    const during = await webCalls.request({ path: '/' });
    assert.equal(during.statusCode, 200);
    assert.equal(await during.body.text(), 'web');
    // billing's decision needs the agent, which cannot answer: fail closed.
    const refused = await billingCalls.request({ path: '/' });
    assert.equal(refused.statusCode, 403);
    await refused.body.dump();

    await server.restart();
    // A dev agent starts with a new CA: the identities pick up new roots and leaves.
    await within(20_000, 'web recovers', () => !web.status().stale && (web.current()?.version ?? 0) > (kept?.version ?? 0));
    assert.ok(events.some((event) => event.type === 'updated'));
  });

  it('an identity that never loaded refuses to connect: ERR_PEER_IDENTITY blamed on the caller side (local)', async (t) => {
    const server = registry.need(t);
    if (server === undefined) return;
    const nowhere = connectIdentity({ service: 'web', address: 'http://127.0.0.1:9', backoff: { base: '50ms', cap: '100ms' } });
    t.after(() => nowhere.close());
    const seen = await new Promise<IdentityEvent>((resolve) => {
      const stop = nowhere.subscribe((event) => {
        stop();
        resolve(event);
      });
    });
    assert.equal(seen.type, 'stale');
    const c = client('orders').endpoints(['127.0.0.1:9']).identity(nowhere).retry(false).build();
    t.after(() => c.close());
    await assert.rejects(c.request({ path: '/' }), (error: unknown) => {
      assert.ok(isMeshkitError(error, 'ERR_PEER_IDENTITY'), String(error));
      assert.equal(error.details['reason'], 'not-loaded');
      assert.equal(error.blame, 'local');
      return true;
    });
  });
});
