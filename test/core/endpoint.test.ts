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

describe('toEndpoint: hosts a URL can carry, one canonical spelling each', () => {
  const refuses = (host: string, reason: RegExp): void => {
    assert.throws(() => toEndpoint({ host, port: 80 }, 'e'), (error: unknown) =>
      isMeshkitError(error, 'ERR_INVALID_CONFIG') && error.details['option'] === 'e.host' && reason.test(error.message),
    `${JSON.stringify(host)} is refused with a reason matching ${reason}`);
  };

  it('refuses a host that no call could reach, naming why (every one would fail in the transport instead)', () => {
    refuses('10.0.0.1:9999', /without ":port" \(the port goes in port\)/);
    refuses('my-host:8080', /without ":port"/);
    refuses('fe80::1%eth0', /without a zone/);
    refuses('[fe80::1%25eth0]', /without a zone/);
    refuses('a:b', /a valid IPv6 address/);
    refuses('[::1', /a valid IPv6 address/);
    refuses('1:2:3:4:5:6:7:8:9', /a valid IPv6 address/);
    refuses('[example.test]', /an IPv6 address inside brackets/);
    refuses('256.0.0.1', /a valid IPv4 address/);
    refuses('1.2.3.4.5', /a valid IPv4 address/);
    refuses('orders.123', /a valid IPv4 address/);
    for (const host of ['host\\x', '%2F', '-', '-lead.example', 'trail-.example', 'a..b', '.', 'b\u00fccher.example', 'semi;colon', `${'a'.repeat(64)}.example`, `${'a.'.repeat(127)}ab`]) {
      refuses(host, /an IP address or a host name/);
    }
    assert.throws(() => toEndpoint('[::1:80', 'e'), (error: unknown) => isMeshkitError(error, 'ERR_INVALID_CONFIG'));
    assert.throws(() => toEndpoint('[example.test]:80', 'e'), (error: unknown) =>
      isMeshkitError(error, 'ERR_INVALID_CONFIG') && error.details['option'] === 'e.host');
  });

  it('accepts IPv4, IPv6 and host names (63-character labels, 253 characters, "_", one final dot)', () => {
    const host = (input: string): string => toEndpoint({ host: input, port: 80 }, 'e').host;
    assert.equal(host('10.1.2.3'), '10.1.2.3');
    assert.equal(host('2001:db8::7'), '2001:db8::7');
    assert.equal(host('[2001:db8::7]'), '2001:db8::7');
    assert.equal(host('orders.svc.cluster.local.'), 'orders.svc.cluster.local');
    assert.equal(host('my_db'), 'my_db');
    assert.equal(host('1password.example'), '1password.example');
    const long = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`;
    assert.equal(long.length, 253);
    assert.equal(host(long), long);
    assert.equal(toEndpoint('[2001:DB8::7]:443', 'e').id, '[2001:db8::7]:443');
  });

  it('canonicalises the host, so every spelling of one instance has one id', () => {
    const same: [string, string][] = [
      ['::1', '0:0:0:0:0:0:0:1'], ['::1', '[0000::0001]'], ['2001:db8::1', '2001:DB8:0:0:0:0:0:1'],
      ['127.0.0.1', '::ffff:127.0.0.1'], ['127.0.0.1', '[::FFFF:7f00:1]'], ['10.0.0.1', '0:0:0:0:0:ffff:a00:1'],
      ['localhost', 'LOCALHOST'], ['orders.example', 'Orders.Example.'], ['127.0.0.1', '127.1'], ['127.0.0.1', '2130706433'],
      ['127.0.0.1', '0x7f.0.0.1'], ['127.0.0.1', '127.0.0.1.'],
    ];
    for (const [a, b] of same) {
      const first = toEndpoint({ host: a, port: 80 }, 'e');
      const second = toEndpoint({ host: b, port: 80 }, 'e');
      assert.equal(second.id, first.id, `${b} is ${a}`);
      assert.equal(second.host, first.host, `${b} is ${a}`);
    }
    assert.equal(toEndpoint({ host: '::ffff:127.0.0.1', port: 80 }, 'e').id, '127.0.0.1:80');
    assert.equal(toEndpoint({ host: '::127.0.0.1', port: 80 }, 'e').id, '[::7f00:1]:80', 'the deprecated IPv4-compatible form is another address');
  });

  it('keeps weights within [1e-6, 1e6], where weighted picks stay finite', () => {
    const [MIN_ENDPOINT_WEIGHT, MAX_ENDPOINT_WEIGHT] = [1e-6, 1e6];
    for (const weight of [MIN_ENDPOINT_WEIGHT, 0.01, 1, 65535, MAX_ENDPOINT_WEIGHT]) assert.equal(toEndpoint({ host: 'a', port: 1, weight }, 'e').weight, weight);
    for (const weight of [5e-324, 1e-320, 1e-7, MAX_ENDPOINT_WEIGHT * 1.0001, 1e308, Number.MAX_VALUE, Infinity, NaN, 0, -1]) {
      assert.throws(() => toEndpoint({ host: 'a', port: 1, weight }, 'e'), (error: unknown) =>
        isMeshkitError(error, 'ERR_INVALID_CONFIG') && error.details['option'] === 'e.weight', `weight ${weight}`);
    }
  });
});
