import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isMeshkitError, isUnspecifiedAddress, toEndpoint } from '../../src/index.js';

describe('toEndpoint', () => {
  it('parses host:port strings, IPv6 in brackets', () => {
    const v4 = toEndpoint('127.0.0.1:8080', 'e');
    assert.deepEqual({ ...v4 }, { id: '127.0.0.1:8080', host: '127.0.0.1', port: 8080, weight: 1, zone: undefined, tags: [], metadata: {} });
    const v6 = toEndpoint('[::1]:9000', 'e');
    assert.equal(v6.host, '::1');
    assert.equal(v6.id, '[::1]:9000');
  });

  it('keeps weight, zone, tags and metadata, frozen', () => {
    const endpoint = toEndpoint({ host: 'localhost', port: 1, weight: 3, zone: 'a', tags: ['v2'], metadata: { k: 'v' } }, 'e');
    assert.equal(endpoint.weight, 3);
    assert.equal(endpoint.zone, 'a');
    assert.deepEqual(endpoint.tags, ['v2']);
    assert.deepEqual(endpoint.metadata, { k: 'v' });
    assert.ok(Object.isFrozen(endpoint) && Object.isFrozen(endpoint.tags) && Object.isFrozen(endpoint.metadata));
  });

  const bad: [unknown, string][] = [
    ['127.0.0.1', 'e'], ['127.0.0.1:0', 'e.port'], ['127.0.0.1:65536', 'e.port'], [{ host: 'a', port: 1.5 }, 'e.port'],
    [{ host: 'a b', port: 1 }, 'e.host'], [{ host: 'a', port: 1, weight: -1 }, 'e.weight'], [{ host: 'a', port: 1, zone: '' }, 'e.zone'],
    [{ host: 'a', port: 1, tags: [1] }, 'e.tags'], [{ host: 'a', port: 1, metadata: { k: 1 } }, 'e.metadata'], [null, 'e'],
  ];
  for (const [input, option] of bad) {
    it(`rejects ${JSON.stringify(input)} naming ${option}`, () => {
      assert.throws(() => toEndpoint(input as never, 'e'), (error: unknown) =>
        isMeshkitError(error, 'ERR_INVALID_CONFIG') && error.details['option'] === option);
    });
  }

  it('refuses unspecified addresses in every spelling, which would send calls to the local host', () => {
    const unspecified: unknown[] = [
      '0.0.0.0:80', '[::]:80', '[::0]:80', '[0:0:0:0:0:0:0:0]:80', '0:80',
      { host: '0.0.0.0', port: 80 }, { host: '::', port: 80 }, { host: '[::]', port: 80 }, { host: '::0', port: 80 },
      { host: '0::', port: 80 }, { host: '0:0:0:0:0:0:0:0', port: 80 }, { host: '::0.0.0.0', port: 80 },
      { host: '::ffff:0.0.0.0', port: 80 }, { host: '::%eth0', port: 80 }, { host: '0', port: 80 }, { host: '0.0', port: 80 },
      { host: '0x0.0.0.0', port: 80 }, { host: '000.0.0.0', port: 80 }, { host: '0.0.0.0.', port: 80 },
    ];
    for (const input of unspecified) {
      assert.throws(() => toEndpoint(input as never, 'e'), (error: unknown) =>
        isMeshkitError(error, 'ERR_INVALID_CONFIG') && error.details['option'] === 'e.host' && /this host/.test(error.message),
      `${JSON.stringify(input)} is refused`);
    }
  });

  it('isUnspecifiedAddress: only "this host" addresses, not their neighbours or names', () => {
    for (const host of ['0.0.0.0', '::', '[::]', '::0', '0:0::0', '::ffff:0:0', '0', '0x0', '00.0']) assert.equal(isUnspecifiedAddress(host), true, host);
    for (const host of ['0.0.0.1', '::1', '::2', '[::1]', '::ffff:127.0.0.1', '10.0.0.0', '127.0.0.1', 'host0', '0.example.test', 'localhost', 'fe80::1%eth0', ''])
      assert.equal(isUnspecifiedAddress(host), false, host);
    assert.equal(toEndpoint('0.0.0.1:80', 'e').host, '0.0.0.1');
    assert.equal(toEndpoint({ host: '0.example.test', port: 80 }, 'e').host, '0.example.test');
  });
});
