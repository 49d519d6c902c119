import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { hostAllowed, normalHostName } from '../../src/status/allowed-host.js';

/** The parts of a request the check reads. */
function request(headers: Record<string, string>, remoteAddress = '127.0.0.1'): IncomingMessage {
  return { headers, socket: { remoteAddress } } as unknown as IncomingMessage;
}

const NONE: ReadonlySet<string> = new Set();

describe('hostAllowed (the status page\'s DNS rebinding check)', () => {
  it('allows IP literals, localhost and *.localhost, with or without a port', () => {
    for (const host of ['127.0.0.1', '127.0.0.1:9901', '192.168.1.20:80', '[::1]', '[::1]:9901', '[fe80::1]:1', 'localhost', 'LocalHost.:9901', 'a.b.localhost', '127.0.0.1.']) {
      assert.equal(hostAllowed(request({ host }), NONE), true, host);
    }
  });

  it('refuses any other name, and malformed values, from any address', () => {
    const refused = [
      'attacker.example', 'attacker.example:9901', 'localhost.attacker.example', '.localhost', 'localhostx', '::1', '[::1', '[::1]x', '[::1]:x',
      '[127.0.0.1]', '[evil.example]', 'a:b:c', 'status.internal:99x', ':9901', '.', '2130706433', '0x7f.0.0.1',
    ];
    for (const host of refused) {
      for (const address of ['127.0.0.1', '10.0.0.9']) assert.equal(hostAllowed(request({ host }, address), NONE), false, `${host} from ${address}`);
    }
  });

  it('allows the names listed (normalised), and nothing that merely contains or extends one', () => {
    const allowed = new Set(['status.internal', 'admin.example'].map(normalHostName));
    for (const host of ['status.internal', 'STATUS.internal.:8443', 'admin.example:1']) assert.equal(hostAllowed(request({ host }), allowed), true, host);
    for (const host of ['x.status.internal', 'status.internal.example', 'status', 'admin.example..']) assert.equal(hostAllowed(request({ host }), allowed), false, host);
    assert.equal(normalHostName('Status.Internal.'), 'status.internal');
  });

  it('reads HTTP/2\'s :authority when there is no Host', () => {
    assert.equal(hostAllowed(request({ ':authority': 'localhost:8443' }, '10.0.0.9'), NONE), true);
    assert.equal(hostAllowed(request({ ':authority': 'attacker.example' }), NONE), false);
  });

  it('without Host (HTTP/1.0), allows a loopback peer only', () => {
    for (const address of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) assert.equal(hostAllowed(request({}, address), NONE), true, address);
    for (const address of ['10.0.0.9', '::ffff:10.0.0.9', 'fe80::1', '128.0.0.1', '127.evil']) assert.equal(hostAllowed(request({}, address), NONE), false, address);
    assert.equal(hostAllowed(request({ host: '' }, '10.0.0.9'), NONE), false, 'an empty Host is no Host');
    assert.equal(hostAllowed({ headers: {}, socket: {} } as unknown as IncomingMessage, NONE), false, 'no peer address');
  });
});
