/**
 * Active health checks of a client with an identity probe over the same
 * mutual TLS as its calls: they present the leaf, trust only the identity's
 * roots and require the peer's SPIFFE ID, so the health endpoint of a
 * service that requires client certificates (Connect-native) can be probed.
 * Real HTTPS servers on 127.0.0.1 with SPIFFE leaves from the test PKI.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { client, type Identity } from '../../src/index.js';
import { startMeshPair, type MeshPair } from '../helpers/identity.js';
import { createCertificateAuthority, type HttpsUpstream } from '../helpers/tls.js';

const probes = (u: HttpsUpstream): number => u.requests.filter((r) => r.url === '/health').length;

async function waitFor(what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('active health checks with a service identity (mutual TLS)', () => {
  const ca = createCertificateAuthority('mesh CA');
  let web: { identity: Identity; close(): Promise<void> };
  let orders: HttpsUpstream;
  let impostor: HttpsUpstream;
  let mesh: MeshPair;
  before(async () => {
    // Both servers require a client certificate from the mesh CA; the impostor holds another service's valid leaf.
    mesh = await startMeshPair(ca);
    ({ web, orders, impostor } = mesh);
  });
  after(() => mesh.close());

  it('probes a server that requires client certificates with the identity\'s leaf and keeps it in rotation', async () => {
    await using c = client('orders').endpoints([orders.address]).retry(false).identity(web.identity)
      .healthCheck({ interval: '20ms', jitter: '5ms', timeout: '1s', unhealthyThreshold: 2 })
      .build();
    await waitFor('three probes', () => probes(orders) >= 3);
    const seen = orders.requests.filter((r) => r.url === '/health');
    assert.ok(seen.every((r) => r.clientCommonName === 'web' && r.headers['user-agent'] === 'meshkit-health-check'), 'every probe presented web\'s leaf');
    assert.deepEqual(orders.refusedHandshakes, [], 'no probe was refused by the server');
    assert.equal(c.endpoints().available.length, 1);
    assert.ok(c.endpoints().health.every((h) => !h.ejected));
  });

  it('takes out an endpoint whose certificate names another service: the probe checks the peer\'s SPIFFE ID', async () => {
    const before = impostor.requests.length;
    await using c = client('orders').endpoints([orders.address, impostor.address]).retry(false).identity(web.identity)
      .healthCheck({ interval: '20ms', jitter: '5ms', timeout: '1s', unhealthyThreshold: 2 })
      .build();
    await waitFor('the impostor to leave rotation', () => c.endpoints().health.some((h) => h.id === impostor.address && h.ejected));
    assert.equal(c.endpoints().health.find((h) => h.id === impostor.address)?.reason, 'active-health-check');
    assert.deepEqual(c.endpoints().available.map((e) => e.id), [orders.address]);
    assert.equal(impostor.requests.length, before, 'no probe request was sent to a server with the wrong identity');
  });
});
