import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Etcd3 } from 'etcd3';
import { etcd } from '../../src/etcd/index.js';
import { resolveEtcdOptions, type EtcdOptions } from '../../src/etcd/options.js';
import { etcdWatchSource } from '../../src/etcd/watch.js';
import { watchKey } from '../../src/discovery/shared-watch.js';
import { client, discoveryCacheEntries, isMeshkitError } from '../../src/index.js';
import { startUpstreams, type Upstream } from '../helpers/upstream.js';
import { etcdFixture, uniqueService, value, waitFor } from './fixture.js';

const ROOT_PASSWORD = 'root-password-for-tests';

const keyOf = (options: EtcdOptions): string => watchKey(etcdWatchSource(resolveEtcdOptions(options)));

describe('etcd watch keys carry a fingerprint of the password and TLS material', () => {
  it('differ by password or TLS material, match for equal content, and never show a secret', () => {
    const base = { service: 'orders', hosts: 'https://127.0.0.1:2379' } as const;
    const tls = (ca: string, key?: string) => ({
      rootCertificate: Buffer.from(ca), ...(key === undefined ? {} : { privateKey: Buffer.from(key), certChain: Buffer.from('chain') }),
    });
    const right = keyOf({ ...base, auth: { username: 'root', password: 'right-password' } });
    assert.notEqual(keyOf({ ...base, auth: { username: 'root', password: 'wrong-password' } }), right);
    assert.equal(keyOf({ ...base, auth: { username: 'root', password: 'right-password' } }), right);
    assert.notEqual(keyOf(base), right);
    assert.notEqual(keyOf({ ...base, credentials: tls('CA one') }), keyOf({ ...base, credentials: tls('CA two') }));
    assert.notEqual(keyOf({ ...base, credentials: tls('CA one', 'key one') }), keyOf({ ...base, credentials: tls('CA one', 'key two') }));
    assert.equal(keyOf({ ...base, credentials: tls('CA one', 'key one') }), keyOf({ ...base, credentials: tls('CA one', 'key one') }));
    const full = keyOf({ ...base, auth: { username: 'root', password: 'right-password' }, credentials: tls('CA one', 'key one') });
    assert.match(full, /\|credentials#[0-9a-f]{64}$/);
    assert.ok(!/right-password|CA one|key one/.test(full), full);
  });
});

describe('etcd with authentication enabled (real etcd)', () => {
  const fixture = etcdFixture();
  let upstream: Upstream | undefined;
  before(async () => {
    await fixture.before();
    [upstream] = await startUpstreams([{}]);
  });
  after(async () => {
    await upstream?.close();
    await fixture.after();
  });

  /** Puts the instance, creates the root role and user, then turns authentication on (etcdctl's `auth enable`). */
  async function enableAuth(url: string, service: string, port: number): Promise<void> {
    const admin = new Etcd3({ hosts: url });
    try {
      await admin.put(`/meshkit/services/${service}/a`).value(value(port));
      await admin.role('root').create();
      await admin.user('root').create(ROOT_PASSWORD);
      await admin.user('root').addRole('root');
      await admin.auth.authEnable();
    } finally {
      admin.close();
    }
  }

  it('a client with a wrong password gets an error, never the endpoints of a client with the right one', async (t) => {
    const server = fixture.need(t);
    if (server === undefined || upstream === undefined) return;
    const service = uniqueService('auth');
    await enableAuth(server.url, service, upstream.port);
    const fast = { backoff: { base: 50, cap: 200 }, requestTimeout: '2s' } as const;
    await using good = client(service).discovery(etcd({ service, hosts: server.url, auth: { username: 'root', password: ROOT_PASSWORD }, ...fast })).build();
    await waitFor('the set with the right password', () => good.endpoints().endpoints.length === 1, 5000);
    assert.equal(good.endpoints().endpoints[0]?.port, upstream?.port);

    await using wrong = client(service).discovery(etcd({ service, hosts: server.url, auth: { username: 'root', password: 'not-the-password' }, ...fast })).build();
    await waitFor('the wrong password is refused', () => wrong.endpoints().lastError !== undefined, 5000);
    const snapshot = wrong.endpoints();
    assert.deepEqual(snapshot.endpoints, [], 'no endpoints through the watch of another client');
    assert.equal(snapshot.ageMs, undefined);
    t.diagnostic(`wrong password: ${snapshot.lastError?.message}`);
    assert.match(snapshot.lastError?.message ?? '', /auth|password|user/i);

    await using anonymous = client(service).discovery(etcd({ service, hosts: server.url, ...fast })).build();
    await waitFor('no credentials is refused', () => anonymous.endpoints().lastError !== undefined, 5000);
    assert.deepEqual(anonymous.endpoints().endpoints, []);

    const watches = discoveryCacheEntries().filter((e) => e.source === `etcd:${service}`);
    assert.equal(watches.length, 3, 'one watch per set of credentials');
    for (const { key } of watches) assert.ok(!key.includes(ROOT_PASSWORD) && !key.includes('not-the-password'), key);
    const call = await good.request({ path: '/' });
    assert.equal(call.statusCode, 200);
    await call.body.dump();
    await assert.rejects(wrong.request({ path: '/', timeout: '100ms' }), (e: unknown) => isMeshkitError(e, 'ERR_NO_ENDPOINTS') || isMeshkitError(e, 'ERR_DEADLINE_EXCEEDED'));
  });
});
