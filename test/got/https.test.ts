import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RequestError } from 'got';
import { client, roundRobin, undiciTransport, type HttpTransportFactory } from '../../src/index.js';
import { meshkitGot } from '../../src/got/index.js';
import { createCertificateAuthority, createTestPki, startHttpsUpstream, type HttpsUpstream, type TestPki } from '../helpers/tls.js';

describe('meshkit/got on an https transport', () => {
  let pki: TestPki;
  let ups: HttpsUpstream[] = [];
  let mutual: HttpsUpstream;
  before(async () => {
    pki = createTestPki();
    ups = await Promise.all([startHttpsUpstream({ server: pki.server }), startHttpsUpstream({ server: pki.server })]);
    mutual = await startHttpsUpstream({ server: pki.server, clientCa: pki.ca.cert });
  });
  after(async () => {
    await Promise.all([...ups, mutual].map((u) => u.close()));
  });

  it('speaks https to every endpoint with the transport\'s CA, whatever the scheme of got\'s URL', async () => {
    await using c = client('orders').endpoints(ups.map((u) => u.address)).balancer(roundRobin())
      .transport(undiciTransport({ protocol: 'https', tls: { ca: pki.ca.cert } })).build();
    const api = meshkitGot(c);
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const response = await api.get('v1/orders/42');
      assert.equal(response.statusCode, 200);
      assert.equal(response.url, 'https://orders/v1/orders/42', 'the default prefixUrl follows the transport');
      seen.add(response.body);
    }
    assert.deepEqual([...seen].sort(), ups.map((u) => `ok ${u.port}`).sort());
    // An explicit http:// URL only names the service: the transport's scheme is used.
    assert.match(await api.get('http://orders/v1/plain', { prefixUrl: '' }).text(), /^ok \d+$/);
    assert.ok(ups.some((u) => u.requests.some((r) => r.url === '/v1/plain')));
    // Keep-alive sockets come from the instance's https agent.
    const agent = api.defaults.options.agent.https;
    assert.ok(agent !== undefined && agent !== false && Object.keys(agent.freeSockets).length > 0);
  });

  it('leaves scheme and TLS to got when the transport does not describe itself', async () => {
    const own: HttpTransportFactory = { name: 'own', create: () => undiciTransport().create() };
    await using c = client('orders').endpoints([ups[0]!.address]).transport(own).build();
    const api = meshkitGot(c, { prefixUrl: 'https://orders' });
    assert.equal(await api.get('v1/own', { https: { certificateAuthority: pki.ca.cert } }).text(), `ok ${ups[0]!.port}`);
    assert.equal(ups[0]!.requests.at(-1)?.url, '/v1/own');
  });

  it('presents the transport\'s client certificate (mutual TLS)', async () => {
    await using c = client('orders').endpoints([mutual.address]).retry(false)
      .transport(undiciTransport({ protocol: 'https', tls: { ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key } })).build();
    const body = await meshkitGot(c).post('v1/orders', { json: { n: 1 } }).text();
    assert.equal(body, `ok ${mutual.port}`);
    assert.equal(mutual.requests.at(-1)?.clientCommonName, 'meshkit test client');
  });

  it('refuses a server certificate the transport\'s CA did not sign', async () => {
    const other = createCertificateAuthority('another CA');
    const before = ups[0]!.requests.length;
    await using c = client('orders').endpoints([ups[0]!.address]).retry(false)
      .transport(undiciTransport({ protocol: 'https', tls: { ca: other.cert } })).build();
    await assert.rejects(meshkitGot(c).get('v1/x'), (error: unknown) => {
      assert.ok(error instanceof RequestError);
      assert.equal(error.code, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
      return true;
    });
    assert.equal(ups[0]!.requests.length, before);
  });

  it('checks the certificate against the transport\'s servername', async () => {
    const onlyName = pki.ca.issue({ commonName: 'orders', altNames: ['orders.internal'], usage: 'server' });
    const named = await startHttpsUpstream({ server: onlyName });
    try {
      await using byIp = client('orders').endpoints([named.address]).retry(false)
        .transport(undiciTransport({ protocol: 'https', tls: { ca: pki.ca.cert } })).build();
      await assert.rejects(meshkitGot(byIp).get('x'), (error: unknown) => (error as RequestError).code === 'ERR_TLS_CERT_ALTNAME_INVALID');
      await using byName = client('orders').endpoints([named.address]).retry(false)
        .transport(undiciTransport({ protocol: 'https', tls: { ca: pki.ca.cert, servername: 'orders.internal' } })).build();
      assert.equal(await meshkitGot(byName).get('x').text(), `ok ${named.port}`);
    } finally {
      await named.close();
    }
  });
});
