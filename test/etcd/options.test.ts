import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { etcd, type EtcdOptions } from '../../src/etcd/index.js';
import { resolveEtcdOptions } from '../../src/etcd/options.js';
import { etcdWatchSource } from '../../src/etcd/watch.js';
import { isMeshkitError, systemClock } from '../../src/index.js';
import { VirtualClock } from '../../src/testing/index.js';

function rejects(options: unknown, option: string): void {
  assert.throws(() => etcd(options as EtcdOptions), (error) => {
    assert.ok(isMeshkitError(error, 'ERR_INVALID_CONFIG'), String(error));
    assert.equal(error.details['option'], option);
    return true;
  });
}

describe('etcd options', () => {
  it('states its defaults', () => {
    const s = resolveEtcdOptions({ service: 'orders' });
    assert.deepEqual([...s.hosts], ['http://127.0.0.1:2379']);
    assert.equal(s.prefix, '/meshkit/services/orders/');
    assert.equal(s.defaultPrefix, true);
    assert.equal(s.requestTimeoutMs, 5000);
    assert.equal(s.backoffBaseMs, 200);
    assert.equal(s.backoffCapMs, 10_000);
    assert.equal(s.leaseTtlSeconds, 10);
    assert.equal(s.clock, systemClock);
    assert.equal(s.credentials, undefined);
    assert.equal(s.auth, undefined);
  });

  it('takes every option', () => {
    const clock = new VirtualClock();
    const s = resolveEtcdOptions({
      service: 'orders', hosts: ['127.0.0.1:1', 'https://127.0.0.1:2379/'], prefix: '/x/', requestTimeout: '1s',
      backoff: { base: 50, cap: '2s' }, leaseTtl: '2500ms', clock, auth: { username: 'u', password: 'p' },
      credentials: { rootCertificate: Buffer.from('ca') },
    });
    assert.deepEqual([s.hosts.length, s.prefix, s.defaultPrefix, s.requestTimeoutMs, s.backoffBaseMs, s.backoffCapMs, s.leaseTtlSeconds],
      [2, '/x/', false, 1000, 50, 2000, 3]);
    assert.equal(s.clock, clock);
    assert.deepEqual(s.hosts, ['https://127.0.0.1:1', 'https://127.0.0.1:2379'], 'host:port takes https from the credentials');
    assert.equal(s.auth?.username, 'u');
  });

  it('names the bad option', () => {
    rejects(undefined, 'etcd');
    rejects({}, 'etcd.service');
    rejects({ service: 'a b' }, 'etcd.service');
    rejects({ service: 's', hosts: [] }, 'etcd.hosts');
    rejects({ service: 's', hosts: '127.0.0.1' }, 'etcd.hosts');
    rejects({ service: 's', hosts: 'grpc://127.0.0.1:2379' }, 'etcd.hosts');
    rejects({ service: 's', hosts: ['http://ok:1', 'ftp://x'] }, 'etcd.hosts[1]');
    rejects({ service: 's', prefix: '' }, 'etcd.prefix');
    // Without the final '/', '/svc/orders' would also match the keys of '/svc/orders-canary/'.
    for (const prefix of ['/svc/orders', 'orders', '/', '//', '/svc/ orders/']) rejects({ service: 's', prefix }, 'etcd.prefix');
    rejects({ service: 's', requestTimeout: 0 }, 'etcd.requestTimeout');
    rejects({ service: 's', backoff: { base: -1 } }, 'etcd.backoff.base');
    rejects({ service: 's', backoff: { base: 100, cap: 50 } }, 'etcd.backoff.cap');
    rejects({ service: 's', backoff: 5 }, 'etcd.backoff');
    rejects({ service: 's', leaseTtl: 500 }, 'etcd.leaseTtl');
    rejects({ service: 's', leaseTtl: 'soon' }, 'etcd.leaseTtl');
    rejects({ service: 's', clock: {} }, 'etcd.clock');
    rejects({ service: 's', auth: { username: '' } }, 'etcd.auth.username');
    rejects({ service: 's', credentials: { rootCertificate: 'pem text' } }, 'etcd.credentials.rootCertificate');
    rejects({ service: 's', credentials: { rootCertificate: Buffer.from('ca'), privateKey: Buffer.from('k') } }, 'etcd.credentials.certChain');
    rejects({ service: 's', credentials: { rootCert: Buffer.from('ca') } }, 'etcd.credentials.rootCert');
    rejects({ service: 's', auth: { username: 'u', password: 5 } }, 'etcd.auth.password');
    rejects({ service: 's', backoff: null }, 'etcd.backoff');
    rejects({ service: 's', backoff: { cpa: 5 } }, 'etcd.backoff.cpa');
    rejects({ service: 's', endpointFilter: 'loopback' }, 'etcd.endpointFilter');
    rejects({ service: 's', host: 'http://127.0.0.1:2379' }, 'etcd.host');
  });

  it('never shows the password in an error, even under a mistyped key', () => {
    for (const options of [
      { service: 's', auth: { username: 'u', pasword: 'the-secret-password' } },
      { service: 's', auth: 'u:the-secret-password' },
      { service: 's', auth: { username: 'u', password: ['the-secret-password'] } },
    ]) {
      assert.throws(() => etcd(options as never), (error: unknown) => {
        assert.ok(isMeshkitError(error, 'ERR_INVALID_CONFIG'));
        assert.ok(!error.message.includes('the-secret-password') && !JSON.stringify(error.details).includes('the-secret-password'), error.message);
        return true;
      });
    }
  });

  it('keeps the fields of the watch key apart', () => {
    const key = (options: EtcdOptions): string => etcdWatchSource(resolveEtcdOptions({ env: {}, ...options })).key;
    const auth = (username: string) => ({ username, password: 'p' });
    assert.notEqual(key({ service: 's', prefix: '/a/', auth: auth('b/|c') }), key({ service: 's', prefix: '/a/|b/', auth: auth('c') }));
    assert.equal(key({ service: 's', prefix: '/a/' }), key({ service: 's', prefix: '/a/' }));
  });

  it('is a resolver and a registrar', () => {
    const provider = etcd({ service: 'orders' });
    assert.equal(provider.source, 'etcd:orders');
    assert.equal(provider.kind, 'etcd');
    assert.equal(typeof provider.subscribe, 'function');
    assert.equal(typeof provider.register, 'function');
  });

  it('refuses an HTTP check and a foreign service before touching etcd', async () => {
    const provider = etcd({ service: 'orders', hosts: 'http://127.0.0.1:1' });
    await assert.rejects(provider.register({ service: 'orders', address: '127.0.0.1', port: 80 }, { http: '/health' }),
      (e) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === 'check');
    const fixed = etcd({ service: 'orders', prefix: '/p/', hosts: 'http://127.0.0.1:1' });
    await assert.rejects(fixed.register({ service: 'users', address: '127.0.0.1', port: 80 }),
      (e) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === 'instance.service');
    await assert.rejects(provider.register({ service: 'orders', address: '127.0.0.1', port: 80, tag: ['v2'] } as never),
      (e) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === 'instance.tag' && /did you mean `tags`/.test(e.message));
    await assert.rejects(provider.register({ service: 'orders', address: '127.0.0.1', port: 80 }, { ttl: '10s', timeout: '1s' } as never),
      (e) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === 'check.timeout');
    await assert.rejects(provider.register({ service: 'orders', address: '0.0.0.0', port: 80 }),
      (e) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === 'instance.host');
  });
});
