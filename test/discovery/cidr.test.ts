import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allowCidrs, isMeshkitError, toEndpoint } from '../../src/index.js';

const at = (host: string) => toEndpoint({ host, port: 80 }, 'e');

describe('allowCidrs', () => {
  it('allows addresses inside the IPv4 and IPv6 blocks, and nothing else', () => {
    const allow = allowCidrs(['127.0.0.0/8', '10.20.0.0/16', '::1/128', 'fd00::/8']);
    const allowed = ['127.0.0.1', '127.255.0.9', '10.20.3.4', '::1', 'fd12:3456::1', '::ffff:127.0.0.1', '::ffff:10.20.0.1'];
    const refused = ['128.0.0.1', '10.21.0.1', '192.168.1.1', '::2', 'fe80::1', '2001:db8::1', '::ffff:10.21.0.1', 'localhost', 'orders.example.test'];
    for (const host of allowed) assert.equal(allow(at(host)), true, host);
    for (const host of refused) assert.equal(allow(at(host)), false, host);
  });

  it('takes a bare address as a block of one, ignores an address zone, and masks host bits', () => {
    assert.equal(allowCidrs(['127.0.0.7'])(at('127.0.0.7')), true);
    assert.equal(allowCidrs(['127.0.0.7'])(at('127.0.0.8')), false);
    // toEndpoint refuses a zone (a URL cannot carry one); an endpoint a custom resolver builds by hand may still have one.
    assert.equal(allowCidrs(['fe80::/10'])({ ...at('fe80::1'), host: 'fe80::1%eth0' }), true);
    assert.equal(allowCidrs(['10.1.2.3/8'])(at('10.9.9.9')), true);
    assert.equal(allowCidrs(['0.0.0.0/0'])(at('203.0.113.5')), true);
    assert.equal(allowCidrs(['0.0.0.0/0'])(at('::1')), false, 'an IPv4 block says nothing about IPv6');
  });

  it('is named after its blocks (the name shows in each refusal)', () => {
    assert.equal(allowCidrs(['127.0.0.0/8', '::1']).name, 'allowCidrs(127.0.0.0/8, ::1/128)');
  });

  it('validates at once, naming the bad block', () => {
    const rejects = (input: unknown, option: string): void => {
      assert.throws(() => allowCidrs(input as string[]), (e: unknown) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === option,
        `${JSON.stringify(input)} -> ${option}`);
    };
    rejects([], 'allowCidrs');
    rejects('127.0.0.0/8', 'allowCidrs');
    rejects(undefined, 'allowCidrs');
    rejects(['127.0.0.0/8', 'loopback'], 'allowCidrs[1]');
    rejects(['127.0.0.0/33'], 'allowCidrs[0]');
    rejects(['::1/129'], 'allowCidrs[0]');
    rejects(['127.0.0.0/'], 'allowCidrs[0]');
    rejects(['127.0.0.0/-1'], 'allowCidrs[0]');
    rejects(['127.0.0.0/8/8'], 'allowCidrs[0]');
    rejects(['fe80::1%eth0/64'], 'allowCidrs[0]');
    rejects([''], 'allowCidrs[0]');
    rejects([8], 'allowCidrs[0]');
  });
});
