import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { client, isMeshkitError, roundRobin, undiciTransport } from '../../src/index.js';
import { createCertificateAuthority, createTestPki, startHttpsUpstream, type HttpsUpstream, type TestPki } from '../helpers/tls.js';

/** The TLS layer's own code: an upstream failure reaches the caller as the cause of an ERR_UPSTREAM. */
const codeOf = (error: unknown): unknown => (isMeshkitError(error, 'ERR_UPSTREAM') ? (error.cause as { code?: unknown }).code : undefined);

describe('undiciTransport over HTTPS (a CA made in the test)', () => {
  let pki: TestPki;
  let plain: HttpsUpstream[] = [];
  let mutual: HttpsUpstream;
  before(async () => {
    pki = createTestPki(['orders.internal']);
    plain = await Promise.all([startHttpsUpstream({ server: pki.server }), startHttpsUpstream({ server: pki.server })]);
    mutual = await startHttpsUpstream({ server: pki.server, clientCa: pki.ca.cert });
  });
  after(async () => {
    await Promise.all([...plain, mutual].map((u) => u.close()));
  });

  it('request() and fetch() reach every endpoint over TLS, verified against the given CA', async () => {
    await using c = client('orders').endpoints(plain.map((u) => u.address)).balancer(roundRobin())
      .transport(undiciTransport({ protocol: 'https', tls: { ca: pki.ca.cert } })).build();
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const res = await c.request({ path: '/v1/orders/42' });
      assert.equal(res.statusCode, 200);
      seen.add(await res.body.text());
    }
    assert.deepEqual([...seen].sort(), plain.map((u) => `ok ${u.port}`).sort());
    const fetched = await c.fetch('https://orders/v1/fetched');
    assert.equal(fetched.status, 200);
    assert.match(await fetched.text(), /^ok \d+$/);
    assert.ok(plain.some((u) => u.requests.some((r) => r.url === '/v1/fetched')));
  });

  it('presents the client certificate a server requires (mutual TLS), and is refused without one', async () => {
    await using withCert = client('orders').endpoints([mutual.address]).retry(false)
      .transport(undiciTransport({ protocol: 'https', tls: { ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key } })).build();
    const res = await withCert.request({ path: '/mtls' });
    assert.equal(res.statusCode, 200);
    await res.body.dump();
    assert.equal(mutual.requests.at(-1)?.clientCommonName, 'meshkit test client');

    const served = mutual.requests.length;
    await using without = client('orders').endpoints([mutual.address]).retry(false)
      .transport(undiciTransport({ protocol: 'https', tls: { ca: pki.ca.cert } })).build();
    await assert.rejects(without.request({ path: '/mtls' }), (error: unknown) => {
      // TLS 1.3: the server's alert arrives after the handshake, as a failed read.
      assert.match(String(codeOf(error)), /CERTIFICATE_REQUIRED|ECONNRESET|UND_ERR_SOCKET/);
      return true;
    });
    assert.equal(mutual.requests.length, served, 'no request was served without a certificate');
    assert.ok(mutual.refusedHandshakes.length > 0);
  });

  it('refuses a server whose certificate another CA signed (the default CAs too)', async () => {
    const other = createCertificateAuthority('another CA');
    const before = plain[0]!.requests.length;
    await using wrongCa = client('orders').endpoints([plain[0]!.address]).retry(false)
      .transport(undiciTransport({ protocol: 'https', tls: { ca: other.cert } })).build();
    await assert.rejects(wrongCa.request({ path: '/' }), (error: unknown) => codeOf(error) === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    await using defaultCas = client('orders').endpoints([plain[0]!.address]).retry(false)
      .transport(undiciTransport({ protocol: 'https' })).build();
    await assert.rejects(defaultCas.fetch('/'), (error: unknown) => codeOf(error) === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    assert.equal(plain[0]!.requests.length, before, 'nothing was sent to an unverified server');
  });

  it('checks the certificate against servername when one is given', async () => {
    const onlyName = pki.ca.issue({ commonName: 'orders', altNames: ['orders.internal'], usage: 'server' });
    const named = await startHttpsUpstream({ server: onlyName });
    try {
      await using byIp = client('orders').endpoints([named.address]).retry(false)
        .transport(undiciTransport({ protocol: 'https', tls: { ca: pki.ca.cert } })).build();
      await assert.rejects(byIp.request({ path: '/' }), (error: unknown) => codeOf(error) === 'ERR_TLS_CERT_ALTNAME_INVALID');
      await using byName = client('orders').endpoints([named.address]).retry(false)
        .transport(undiciTransport({ protocol: 'https', tls: { ca: pki.ca.cert, servername: 'orders.internal' } })).build();
      const res = await byName.request({ path: '/' });
      assert.equal(res.statusCode, 200);
      await res.body.dump();
    } finally {
      await named.close();
    }
  });

  it('validates tls with readTlsOptions: ERR_INVALID_CONFIG naming the option', () => {
    const rejects = (options: Parameters<typeof undiciTransport>[0], option: string): void => {
      assert.throws(() => undiciTransport(options), (error: unknown) => {
        assert.ok(isMeshkitError(error, 'ERR_INVALID_CONFIG'), String(error));
        assert.equal(error.details['option'], option);
        return true;
      });
    };
    rejects({ protocol: 'https', tls: { rejectUnauthorized: 'no', ca: 42 } as never }, 'transport.tls.rejectUnauthorized');
    rejects({ protocol: 'https', tls: { ca: 42 } as never }, 'transport.tls.ca');
    rejects({ protocol: 'https', tls: { certificate: 'x' } as never }, 'transport.tls.certificate');
    rejects({ protocol: 'https', tls: { cert: pki.client.cert } }, 'transport.tls.key');
    rejects({ protocol: 'https', tls: 'yes' as never }, 'transport.tls');
    rejects({ tls: { ca: pki.ca.cert } }, 'transport.tls');
    rejects({ protocol: 'ftp' as never }, 'transport.protocol');
  });

  it('describes its scheme and TLS settings to adapters (factory.connection)', () => {
    assert.deepEqual(undiciTransport().connection, { protocol: 'http', tls: undefined });
    const factory = undiciTransport({ protocol: 'https', tls: { ca: pki.ca.cert, servername: 'orders.internal', key: undefined, cert: undefined } });
    assert.deepEqual(factory.connection, { protocol: 'https', tls: { ca: pki.ca.cert, servername: 'orders.internal' } });
    assert.ok(Object.isFrozen(factory.connection) && Object.isFrozen(factory.connection?.tls));
  });
});
