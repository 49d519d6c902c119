import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { client, isMeshkitError, undiciTransport, type Identity, type UndiciTransportOptions } from '../../src/index.js';
import { startUpstream } from '../helpers/upstream.js';

describe('undiciTransport options', () => {
  it('refuses a keepAliveTimeout or connectTimeout of 0 at the factory, naming it', () => {
    for (const [options, option] of [
      // undici refused keepAliveTimeout 0 only when a call opened a pool: every call failed as the caller's bad request.
      [{ keepAliveTimeout: 0 }, 'transport.keepAliveTimeout'], [{ keepAliveTimeout: '0ms' }, 'transport.keepAliveTimeout'],
      // undici reads connectTimeout 0 as no connect timeout at all.
      [{ connectTimeout: 0 }, 'transport.connectTimeout'], [{ connectTimeout: '0s' }, 'transport.connectTimeout'],
      [{ keepAliveTimeout: -1 }, 'transport.keepAliveTimeout'], [{ connectTimeout: 2 ** 31 }, 'transport.connectTimeout'],
    ] as const) {
      assert.throws(() => undiciTransport(options as UndiciTransportOptions), (e: unknown) =>
        isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === option, `${JSON.stringify(options)}`);
    }
  });

  it('accepts positive durations, fractional ones included, and calls go through', async (t) => {
    const upstream = await startUpstream();
    t.after(() => upstream.close());
    await using c = client('transport-options').endpoints([upstream.address])
      .transport(undiciTransport({ keepAliveTimeout: '1.5s', connectTimeout: 250.5 })).build();
    const res = await c.request({ path: '/' });
    await res.body.dump();
    assert.equal(res.statusCode, 200);
  });

  describe('secrets in TLS options never reach an error', () => {
    const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const keyBody = key.split('\n')[2] as string;
    const passphrase = 'hunter2-S3CRET';
    const identity = { current() {}, subscribe: () => () => {}, status: () => ({}) } as unknown as Identity;

    /** Refused naming `option`, and neither the message nor the details carry a secret. */
    function refusedWithout(option: string, shown?: unknown): (error: unknown) => boolean {
      return (error) => {
        assert.ok(isMeshkitError(error, 'ERR_INVALID_CONFIG'), `got ${String(error)}`);
        assert.equal(error.details['option'], option);
        const text = `${error.message} ${JSON.stringify(error.details)}`;
        assert.ok(!text.includes(keyBody) && !text.includes(passphrase), `a secret in: ${text}`);
        if (shown !== undefined) assert.deepEqual(error.details['value'], shown);
        return true;
      };
    }

    it('a key, passphrase, pfx or session beside an identity is named, its value shown as <redacted>', () => {
      for (const [name, value] of [['key', key], ['passphrase', passphrase], ['pfx', Buffer.from(key)], ['session', Buffer.from(passphrase)]] as const) {
        assert.throws(() => undiciTransport({ identity, peerService: 'orders', tls: { [name]: value } }), refusedWithout(`transport.tls.${name}`, '<redacted>'));
      }
      assert.throws(() => client('orders').endpoints(['127.0.0.1:1']).identity(identity, { tls: { key } }).build(),
        refusedWithout('transport.tls.key', '<redacted>'));
      // A setting that is no secret is still shown.
      assert.throws(() => undiciTransport({ identity, peerService: 'orders', tls: { servername: 'orders.internal', rejectUnauthorized: true } }),
        refusedWithout('transport.tls.rejectUnauthorized', true));
    });

    it('TLS options on plain http show the object with its secrets redacted', () => {
      assert.throws(() => undiciTransport({ protocol: 'http', tls: { key, cert: 'CERT', passphrase } }),
        refusedWithout('transport.tls', { key: '<redacted>', cert: 'CERT', passphrase: '<redacted>' }));
    });

    it('a mistyped key, a secret of the wrong type and TLS material given as the identity are not shown', () => {
      assert.throws(() => undiciTransport({ protocol: 'https', tls: { kye: key, cert: 'CERT' } as never }), refusedWithout('transport.tls.kye'));
      assert.throws(() => undiciTransport({ protocol: 'https', tls: { passphrase: Buffer.from(passphrase) } as never }),
        refusedWithout('transport.tls.passphrase', '<redacted>'));
      assert.throws(() => undiciTransport({ tsl: { key, cert: 'CERT' } } as never), refusedWithout('transport.tsl'));
      assert.throws(() => undiciTransport({ identity: { key, cert: 'CERT' } as never, peerService: 'orders' }),
        refusedWithout('transport.identity', { key: '<redacted>', cert: '<redacted>' }));
      assert.throws(() => undiciTransport({ identity: key as never, peerService: 'orders' }), refusedWithout('transport.identity', '<redacted>'));
      // A key without its certificate is still named as before.
      assert.throws(() => undiciTransport({ protocol: 'https', tls: { key } }), refusedWithout('transport.tls.cert'));
    });
  });
});
