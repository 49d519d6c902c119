import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { etcd, type EtcdOptions } from '../../src/etcd/index.js';
import { resolveEtcdOptions } from '../../src/etcd/options.js';
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
      service: 'orders', hosts: ['http://127.0.0.1:1', 'https://127.0.0.1:2379/'], prefix: '/x/', requestTimeout: '1s',
      backoff: { base: 50, cap: '2s' }, leaseTtl: '2500ms', clock, auth: { username: 'u', password: 'p' },
      credentials: { rootCertificate: Buffer.from('ca') },
    });
    assert.deepEqual([s.hosts.length, s.prefix, s.defaultPrefix, s.requestTimeoutMs, s.backoffBaseMs, s.backoffCapMs, s.leaseTtlSeconds],
      [2, '/x/', false, 1000, 50, 2000, 3]);
    assert.equal(s.clock, clock);
    assert.equal(s.hosts[1], 'https://127.0.0.1:2379');
    assert.equal(s.auth?.username, 'u');
  });

  it('names the bad option', () => {
    rejects(undefined, 'options');
    rejects({}, 'service');
    rejects({ service: 'a b' }, 'service');
    rejects({ service: 's', hosts: [] }, 'hosts');
    rejects({ service: 's', hosts: '127.0.0.1:2379' }, 'hosts');
    rejects({ service: 's', hosts: ['http://ok:1', 'ftp://x'] }, 'hosts[1]');
    rejects({ service: 's', prefix: '' }, 'prefix');
    rejects({ service: 's', requestTimeout: 0 }, 'requestTimeout');
    rejects({ service: 's', backoff: { base: -1 } }, 'backoff.base');
    rejects({ service: 's', backoff: { base: 100, cap: 50 } }, 'backoff.cap');
    rejects({ service: 's', backoff: 5 }, 'backoff');
    rejects({ service: 's', leaseTtl: 500 }, 'leaseTtl');
    rejects({ service: 's', leaseTtl: 'soon' }, 'leaseTtl');
    rejects({ service: 's', clock: {} }, 'clock');
    rejects({ service: 's', auth: { username: '' } }, 'auth');
    rejects({ service: 's', credentials: { rootCertificate: 'pem text' } }, 'credentials');
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
  });
});
