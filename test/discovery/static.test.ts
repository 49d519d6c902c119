import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { allowCidrs, client, isMeshkitError, staticEndpoints, toEndpoint, type Endpoint, type ResolverUpdate } from '../../src/index.js';

describe('staticEndpoints', () => {
  it('delivers the validated set synchronously on subscribe', () => {
    const updates: ResolverUpdate[] = [];
    const resolver = staticEndpoints(['127.0.0.1:1', { host: '::1', port: 2, weight: 3 }]);
    const stop = resolver.subscribe({ onUpdate: (u) => updates.push(u), onError: () => {} });
    assert.equal(updates.length, 1);
    assert.equal(updates[0]?.source, 'static');
    assert.deepEqual(updates[0]?.endpoints.map((e) => [e.id, e.weight]), [['127.0.0.1:1', 1], ['[::1]:2', 3]]);
    stop();
  });

  it('rejects an empty list and duplicates at creation', () => {
    assert.throws(() => staticEndpoints([]), (e: unknown) => isMeshkitError(e, 'ERR_INVALID_CONFIG'));
    assert.throws(() => staticEndpoints(['127.0.0.1:1', '127.0.0.1:1']), (e: unknown) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === 'endpoints[1]');
  });

  it('refuses unknown keys in endpoint objects, with the nearest known one', () => {
    assert.throws(() => staticEndpoints(['127.0.0.1:1', { host: '127.0.0.1', port: 2, wieght: 3 } as never]),
      (e: unknown) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === 'endpoints[1].wieght' && /did you mean `weight`/.test(e.message));
    // An Endpoint (with its id) can be given back (from JavaScript, or with a cast: its zone may be undefined).
    const given: Endpoint = toEndpoint('127.0.0.1:7', 'e');
    const updates: ResolverUpdate[] = [];
    staticEndpoints([given as never]).subscribe({ onUpdate: (u) => updates.push(u), onError: assert.fail })();
    assert.equal(updates[0]?.endpoints[0]?.id, '127.0.0.1:7');
  });

  it('refuses unspecified addresses (0.0.0.0, ::) at creation, naming the entry', () => {
    assert.throws(() => staticEndpoints(['127.0.0.1:1', '0.0.0.0:2']),
      (e: unknown) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === 'endpoints[1].host');
    assert.throws(() => staticEndpoints([{ host: '0:0:0:0:0:0:0:0', port: 2 }]),
      (e: unknown) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === 'endpoints[0].host');
    assert.throws(() => staticEndpoints(['[::]:2']), (e: unknown) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === 'endpoints[0].host');
  });

  it('refuses a host no call could reach (host:port, a zone, stray characters) at creation, from staticEndpoints and .endpoints()', () => {
    const malformed = ['10.0.0.1:9999', 'fe80::1%eth0', 'a:b', '[::1', 'host\\x', '%2F'];
    for (const host of malformed) {
      const named = (e: unknown): boolean => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === 'endpoints[1].host';
      assert.throws(() => staticEndpoints(['127.0.0.1:1', { host, port: 2 }]), named, host);
      assert.throws(() => client('orders').endpoints(['127.0.0.1:1', { host, port: 2 }]).build(), named, `.endpoints() with ${host}`);
    }
  });

  it('one instance spelled two ways is listed twice: refused', () => {
    for (const [a, b] of [['[::1]:2', '[0:0:0:0:0:0:0:1]:2'], ['127.0.0.1:2', '[::ffff:127.0.0.1]:2'], ['localhost:2', 'LOCALHOST:2']]) {
      assert.throws(() => staticEndpoints([a as string, b as string]), (e: unknown) =>
        isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === 'endpoints[1]' && /listed twice/.test(e.message), `${a} and ${b}`);
    }
  });

  it('every call reaches the healthy instance: a mistyped entry never gets into the set', async (t) => {
    const server = http.createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { port } = server.address() as AddressInfo;
    // With the mistyped host inside the set, most calls failed with ERR_INVALID_ARGUMENT; now the list is refused outright.
    assert.throws(() => client('orders').endpoints([{ host: `127.0.0.1:${port}`, port }, { host: '127.0.0.1', port }]).build(),
      (e: unknown) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === 'endpoints[0].host');
    await using orders = client('orders').endpoints([{ host: '::FFFF:127.0.0.1', port }]).build();
    assert.deepEqual(orders.endpoints().endpoints.map((e) => e.id), [`127.0.0.1:${port}`], 'the IPv4-mapped spelling is the IPv4 address');
    for (let i = 0; i < 3; i++) {
      const res = await orders.request({ path: '/', timeout: '2s' });
      assert.equal(res.statusCode, 200);
      await res.body.dump();
    }
  });

  it('endpointFilter: refused endpoints are reported to each subscriber as rejected entries; a filter that allows none fails at once', () => {
    const resolver = staticEndpoints(['127.0.0.1:1', '127.0.0.2:2', '[::1]:3'], { endpointFilter: allowCidrs(['127.0.0.1/32', '::1/128']) });
    for (let subscriber = 0; subscriber < 2; subscriber++) {
      const updates: ResolverUpdate[] = [];
      const rejected: { entry: unknown; error: Error }[] = [];
      resolver.subscribe({ onUpdate: (u) => updates.push(u), onError: assert.fail, onRejected: (entry, error) => rejected.push({ entry, error }) })();
      assert.deepEqual(updates[0]?.endpoints.map((e) => e.id), ['127.0.0.1:1', '[::1]:3']);
      assert.deepEqual(rejected.map((r) => (r.entry as { id: string }).id), ['127.0.0.2:2']);
      assert.ok(isMeshkitError(rejected[0]?.error, 'ERR_INVALID_CONFIG'));
      assert.match(rejected[0]?.error.message ?? '', /allowCidrs\(127\.0\.0\.1\/32, ::1\/128\)/);
      assert.deepEqual(updates[0]?.rejected?.map((r) => (r.entry as { id: string }).id), ['127.0.0.2:2']);
    }
    assert.throws(() => staticEndpoints(['127.0.0.2:2'], { endpointFilter: allowCidrs(['127.0.0.1/32']) }),
      (e: unknown) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === 'endpointFilter');
    assert.throws(() => staticEndpoints(['127.0.0.1:1'], { endpointFilter: 'loopback' as never }),
      (e: unknown) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === 'endpointFilter');
    assert.throws(() => staticEndpoints(['127.0.0.1:1'], { endpointFiltre: () => true } as never),
      (e: unknown) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === 'staticEndpoints.endpointFiltre' && /did you mean `endpointFilter`/.test(e.message));
  });
});
