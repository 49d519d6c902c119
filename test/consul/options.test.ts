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
    rejects(undefined, 'options');
    rejects({}, 'service');
    rejects({ service: '' }, 'service');
    rejects({ service: 'a/b' }, 'service');
    rejects({ service: 's', address: 'ftp://x' }, 'address');
    rejects({ service: 's', address: 'http://127.0.0.1:8500/v1' }, 'address');
    rejects({ service: 's', address: 'not a url' }, 'address');
    rejects({ service: 's', passingOnly: 'yes' }, 'passingOnly');
    rejects({ service: 's', tags: 'v2' }, 'tags');
    rejects({ service: 's', tags: [''] }, 'tags');
    rejects({ service: 's', nodeMeta: { rack: 1 } }, 'nodeMeta.rack');
    rejects({ service: 's', nodeMeta: [] }, 'nodeMeta');
    rejects({ service: 's', datacenter: '' }, 'datacenter');
    rejects({ service: 's', token: 42 }, 'token');
    rejects({ service: 's', tls: {} }, 'tls');
    rejects({ service: 's', address: 'https://127.0.0.1:8501', tls: { cert: 'x' } }, 'tls.key');
    rejects({ service: 's', address: 'https://127.0.0.1:8501', tls: { ca: 42 } }, 'tls.ca');
    rejects({ service: 's', address: 'https://127.0.0.1:8501', tls: { rejectUnauthorized: 'no' } }, 'tls.rejectUnauthorized');
    rejects({ service: 's', wait: '11m' }, 'wait');
    rejects({ service: 's', wait: 0 }, 'wait');
    rejects({ service: 's', minInterval: 'fast' }, 'minInterval');
    rejects({ service: 's', backoff: { base: '2s', cap: '1s' } }, 'backoff.cap');
    rejects({ service: 's', backoff: { base: -1 } }, 'backoff.base');
    rejects({ service: 's', clock: {} }, 'clock');
    rejects({ service: 's', sevrice: 'typo' }, 'sevrice');
  });

  it('applies defaults and shares the watch key between equal options', () => {
    const a = consul({ service: 'orders' });
    assert.equal(a.kind, 'consul');
    assert.equal(a.source, 'consul:orders');
    assert.match(a.key, /^consul\|http:\/\/127\.0\.0\.1:8500\|\|orders\|passing\|\|\|\|\|30000\|250\|500\|15000\|clock#\d+$/);
    assert.equal(consul({ service: 'orders', tags: ['b', 'a'] }).key, consul({ service: 'orders', tags: ['a', 'b', 'a'] }).key);
    assert.notEqual(consul({ service: 'orders' }).key, consul({ service: 'orders', passingOnly: false }).key);
    assert.notEqual(consul({ service: 'orders' }).key, consul({ service: 'orders', clock: new VirtualClock() }).key);
    const withToken = consul({ service: 'orders', token: 'secret-token' });
    assert.ok(!withToken.key.includes('secret-token'), 'the key shows a hash of the token, never the token');
    assert.ok(consul({ service: 'x', address: 'https://127.0.0.1:8501', tls: { ca: 'PEM', rejectUnauthorized: false } }).key.includes('tls#'));
  });
});
