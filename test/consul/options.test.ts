import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { consul, type ConsulOptions } from '../../src/consul/index.js';
import { isMeshkitError } from '../../src/index.js';
import { VirtualClock } from '../../src/testing/index.js';

function rejects(options: unknown, option: string): void {
  assert.throws(() => consul(options as ConsulOptions), (error) => {
    assert.ok(isMeshkitError(error, 'ERR_INVALID_CONFIG'), String(error));
    assert.equal(error.details['option'], option);
    return true;
  });
}

describe('consul() option validation', () => {
  it('names the bad option in ERR_INVALID_CONFIG', () => {
    rejects(undefined, 'consul');
    rejects({}, 'consul.service');
    rejects({ service: '' }, 'consul.service');
    rejects({ service: 'a/b' }, 'consul.service');
    rejects({ service: 's', address: 'ftp://x' }, 'consul.address');
    rejects({ service: 's', address: 'http://127.0.0.1:8500/v1' }, 'consul.address');
    rejects({ service: 's', address: 'not a url' }, 'consul.address');
    rejects({ service: 's', passingOnly: 'yes' }, 'consul.passingOnly');
    rejects({ service: 's', tags: 'v2' }, 'consul.tags');
    rejects({ service: 's', tags: [''] }, 'consul.tags');
    rejects({ service: 's', nodeMeta: { rack: 1 } }, 'consul.nodeMeta.rack');
    rejects({ service: 's', nodeMeta: [] }, 'consul.nodeMeta');
    rejects({ service: 's', datacenter: '' }, 'consul.datacenter');
    rejects({ service: 's', token: 42 }, 'consul.token');
    rejects({ service: 's', tls: {} }, 'consul.tls');
    rejects({ service: 's', address: 'https://127.0.0.1:8501', tls: { cert: 'x' } }, 'consul.tls.key');
    rejects({ service: 's', address: 'https://127.0.0.1:8501', tls: { ca: 42 } }, 'consul.tls.ca');
    rejects({ service: 's', address: 'https://127.0.0.1:8501', tls: { rejectUnauthorized: 'no' } }, 'consul.tls.rejectUnauthorized');
    rejects({ service: 's', wait: '11m' }, 'consul.wait');
    rejects({ service: 's', wait: 0 }, 'consul.wait');
    rejects({ service: 's', minInterval: 'fast' }, 'consul.minInterval');
    rejects({ service: 's', backoff: { base: '2s', cap: '1s' } }, 'consul.backoff.cap');
    rejects({ service: 's', backoff: { base: -1 } }, 'consul.backoff.base');
    rejects({ service: 's', clock: {} }, 'consul.clock');
    rejects({ service: 's', sevrice: 'typo' }, 'consul.sevrice');
    rejects({ service: 's', backoff: null }, 'consul.backoff');
    rejects({ service: 's', backoff: { bsae: '1s' } }, 'consul.backoff.bsae');
    rejects({ service: 's', address: 'https://127.0.0.1:8501', tls: { pfx: 'x' } }, 'consul.tls.pfx');
    rejects({ service: 's', endpointFilter: ['127.0.0.0/8'] }, 'consul.endpointFilter');
    rejects({ service: 's', requestTimeout: 0 }, 'consul.requestTimeout');
    rejects({ service: 's', requestTimeout: 'soon' }, 'consul.requestTimeout');
    rejects({ service: 's', requestTimeout: 2 ** 31 }, 'consul.requestTimeout');
  });

  it('never shows a secret in an error: a mistyped token key or TLS key, a token of the wrong type', () => {
    const message = (options: unknown): string => {
      try {
        consul(options as ConsulOptions);
      } catch (error) {
        return String((error as Error).message);
      }
      return assert.fail('expected ERR_INVALID_CONFIG');
    };
    const typo = message({ service: 's', tokn: 'secret-token-value' });
    assert.match(typo, /consul\.tokn.*did you mean `token`/);
    assert.ok(!typo.includes('secret-token-value'), typo);
    const tlsTypo = message({ service: 's', address: 'https://127.0.0.1:8501', tls: { kye: 'PRIVATE KEY BYTES' } });
    assert.match(tlsTypo, /consul\.tls\.kye.*did you mean `key`/);
    assert.ok(!tlsTypo.includes('PRIVATE KEY BYTES'), tlsTypo);
    assert.ok(!message({ service: 's', token: ['secret-in-a-list'] }).includes('secret-in-a-list'));
  });

  it('applies defaults and shares the watch key between equal options', () => {
    const a = consul({ service: 'orders' });
    assert.equal(a.kind, 'consul');
    assert.equal(a.source, 'consul:orders');
    assert.match(a.key, /^\["consul","http:\/\/127\.0\.0\.1:8500",null,"orders",true,\[\],\[\],null,30000,250,500,15000,"clock#\d+",false\]$/);
    // requestTimeout bounds registration requests only: not part of the watch.
    assert.equal(consul({ service: 'orders', requestTimeout: '1s' }).key, a.key);
    assert.equal(consul({ service: 'orders', tags: ['b', 'a'] }).key, consul({ service: 'orders', tags: ['a', 'b', 'a'] }).key);
    assert.notEqual(consul({ service: 'orders' }).key, consul({ service: 'orders', passingOnly: false }).key);
    assert.notEqual(consul({ service: 'orders' }).key, consul({ service: 'orders', clock: new VirtualClock() }).key);
    const withToken = consul({ service: 'orders', token: 'secret-token' });
    assert.ok(!withToken.key.includes('secret-token'), 'the key shows a hash of the token, never the token');
    assert.match(consul({ service: 'x', address: 'https://127.0.0.1:8501', tls: { ca: 'PEM', rejectUnauthorized: false } }).key, /,"credentials#[0-9a-f]{64}",/);
  });

  it('keys the watch by a fingerprint of the token and TLS material: any difference is another watch', () => {
    const https = { service: 'orders', address: 'https://127.0.0.1:8501' } as const;
    assert.notEqual(consul({ service: 'orders', token: 'token-a' }).key, consul({ service: 'orders', token: 'token-b' }).key);
    assert.equal(consul({ service: 'orders', token: 'token-a' }).key, consul({ service: 'orders', token: 'token-a' }).key);
    const withCa = (ca: string) => consul({ ...https, tls: { ca: Buffer.from(ca) } }).key;
    assert.notEqual(withCa('CA one'), withCa('CA two'));
    assert.equal(withCa('CA one'), withCa('CA one'), 'equal bytes in another Buffer: the same watch');
    const withKey = (key: string) => consul({ ...https, tls: { cert: 'CERT', key: Buffer.from(key) } }).key;
    assert.notEqual(withKey('key one'), withKey('key two'));
    assert.ok(!/CA one|key one|token-a/.test(`${withCa('CA one')} ${withKey('key one')} ${consul({ service: 'orders', token: 'token-a' }).key}`));
  });

  it('keeps the fields of the watch key apart: filters that differ never share a watch', () => {
    const key = (options: Partial<ConsulOptions>): string => consul({ service: 'orders', env: {}, ...options }).key;
    assert.notEqual(key({ tags: ['blue', 'v2'] }), key({ tags: ['blue,v2'] }));
    assert.notEqual(key({ nodeMeta: { rack: 'r1,zone:z9' } }), key({ nodeMeta: { rack: 'r1', zone: 'z9' } }));
    assert.notEqual(key({ service: 'b|orders', datacenter: 'dc1' }), key({ service: 'orders', datacenter: 'dc1|b' }));
    assert.equal(key({ nodeMeta: { b: '2', a: '1' } }), key({ nodeMeta: { a: '1', b: '2' } }), 'node-meta order does not matter');
  });

  it('an endpointFilter runs per client: it does not change the watch key', () => {
    assert.equal(consul({ service: 'orders', endpointFilter: () => true }).key, consul({ service: 'orders' }).key);
  });

  it('checks registration options before touching the agent: unknown keys, an unspecified address', async () => {
    const provider = consul({ service: 'orders', address: 'http://127.0.0.1:1' });
    const instance = { service: 'orders', address: '127.0.0.1', port: 8080 };
    const refused = async (call: Promise<unknown>, option: string): Promise<void> => {
      await assert.rejects(call, (e: unknown) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === option);
    };
    await refused(provider.register({ ...instance, adress: '127.0.0.2' } as never), 'instance.adress');
    await refused(provider.register(instance, { ttl: '10s', interval: '5s' } as never), 'check.interval');
    await refused(provider.register(instance, { http: '/health', ttl: '10s' } as never), 'check.ttl');
    await refused(provider.register({ ...instance, address: '0.0.0.0' }), 'instance.host');
    await refused(provider.register({ ...instance, address: '::' }), 'instance.host');
    await refused(provider.register(instance, 'ttl' as never), 'check');
  });
});
