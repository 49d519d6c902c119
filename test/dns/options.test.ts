import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { client, isMeshkitError } from '../../src/index.js';
import { dns, type DnsOptions } from '../../src/dns/index.js';
import { parseDnsOptions } from '../../src/dns/options.js';

function rejects(options: unknown, option: string): void {
  assert.throws(() => dns(options as DnsOptions), (error: unknown) => {
    assert.ok(isMeshkitError(error, 'ERR_INVALID_CONFIG'), `expected ERR_INVALID_CONFIG, got ${String(error)}`);
    assert.equal(error.details['option'], option);
    assert.match(error.message, new RegExp(option.replace(/[.[\]]/g, '\\$&')));
    return true;
  });
}

describe('dns options', () => {
  it('applies the documented defaults', () => {
    const settings = parseDnsOptions({ name: '_http._tcp.orders.example.test' });
    assert.equal(settings.type, 'srv');
    assert.equal(settings.port, undefined);
    assert.equal(settings.servers, undefined);
    assert.equal(settings.ttlFloorMs, 1000);
    assert.equal(settings.ttlCapMs, 30_000);
    assert.equal(settings.timeoutMs, 2000);
    assert.equal(settings.tries, 2);
    assert.equal(settings.backoffBaseMs, 1000);
    assert.equal(settings.backoffCapMs, 30_000);
    assert.equal(settings.family, 'both');
    assert.equal(parseDnsOptions({ name: '_http._tcp.x.test', family: 4 }).family, 4);
  });

  it('parses durations and servers, and drops a final dot from the name', () => {
    const settings = parseDnsOptions({
      name: 'orders.example.test.', type: 'a+aaaa', port: 8080, servers: ['127.0.0.1:5353', '::1', '[::1]:53', '127.0.0.1'],
      ttlFloor: '250ms', ttlCap: '5s', timeout: 300, tries: 1, errorBackoff: { base: '100ms', cap: '2s' },
    });
    assert.equal(settings.name, 'orders.example.test');
    assert.deepEqual(settings.servers, ['127.0.0.1:5353', '::1', '[::1]:53', '127.0.0.1']);
    assert.deepEqual([settings.ttlFloorMs, settings.ttlCapMs, settings.timeoutMs, settings.backoffBaseMs, settings.backoffCapMs], [250, 5000, 300, 100, 2000]);
  });

  it('rounds a fractional timeout up to whole ms, which the resolver takes: a client with one builds', async () => {
    const timeouts = ['1.5ms', 2500.5, '1.0001s', '500us'] as const;
    assert.deepEqual(timeouts.map((timeout) => parseDnsOptions({ name: 'x.test', timeout }).timeoutMs), [2, 2501, 1001, 1]);
    for (const timeout of timeouts) {
      const discovery = dns({ name: 'orders.example.test', type: 'a', port: 80, servers: ['127.0.0.1:1'], timeout });
      // Before: Node's RangeError (options.timeout must be an integer) escaped build().
      const c = client('orders').discovery(discovery).build();
      await c.close({ timeout: 100 });
    }
  });

  it('names the bad option', () => {
    rejects(undefined, 'dns');
    rejects({}, 'dns.name');
    rejects({ name: '' }, 'dns.name');
    rejects({ name: 'bad name.test' }, 'dns.name');
    rejects({ name: 'a..b' }, 'dns.name');
    rejects({ name: 'x.test', type: 'mx' }, 'dns.type');
    rejects({ name: '_http._tcp.x.test', family: 5 }, 'dns.family');
    rejects({ name: '_http._tcp.x.test', family: '4' }, 'dns.family');
    rejects({ name: 'x.test', type: 'a', port: 80, family: 4 }, 'dns.family');
    rejects({ name: '_http._tcp.x.test', port: 80 }, 'dns.port');
    rejects({ name: 'x.test', type: 'a' }, 'dns.port');
    rejects({ name: 'x.test', type: 'aaaa', port: 0 }, 'dns.port');
    rejects({ name: 'x.test', type: 'a', port: 70000 }, 'dns.port');
    rejects({ name: 'x.test', servers: [] }, 'dns.servers');
    rejects({ name: 'x.test', servers: '127.0.0.1' }, 'dns.servers');
    rejects({ name: 'x.test', servers: ['127.0.0.1', 'dns.example.test'] }, 'dns.servers[1]');
    rejects({ name: 'x.test', servers: ['127.0.0.1:0'] }, 'dns.servers[0]');
    rejects({ name: 'x.test', servers: [53] }, 'dns.servers[0]');
    rejects({ name: 'x.test', ttlFloor: 0 }, 'dns.ttlFloor');
    rejects({ name: 'x.test', ttlFloor: 'soon' }, 'dns.ttlFloor');
    rejects({ name: 'x.test', ttlCap: -1 }, 'dns.ttlCap');
    rejects({ name: 'x.test', ttlFloor: '5s', ttlCap: '1s' }, 'dns.ttlCap');
    rejects({ name: 'x.test', timeout: 0 }, 'dns.timeout');
    rejects({ name: 'x.test', tries: 0 }, 'dns.tries');
    rejects({ name: 'x.test', tries: 1.5 }, 'dns.tries');
    rejects({ name: 'x.test', errorBackoff: null }, 'dns.errorBackoff');
    rejects({ name: 'x.test', errorBackoff: { base: 0 } }, 'dns.errorBackoff.base');
    rejects({ name: 'x.test', errorBackoff: { base: '2s', cap: '1s' } }, 'dns.errorBackoff.cap');
    rejects({ name: 'x.test', clock: {} }, 'dns.clock');
    rejects({ name: 'x.test', ttl: '1s' }, 'dns.ttl');
    rejects({ name: 'x.test', errorBackoff: { bsae: '1s' } }, 'dns.errorBackoff.bsae');
    rejects({ name: 'x.test', endpointFilter: true }, 'dns.endpointFilter');
  });
});
