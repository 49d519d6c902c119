import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { client, roundRobin, subscribe, undiciTransport, type HttpTransportFactory } from '../../src/index.js';
import { resolveHealthCheck } from '../../src/health/active-health-check-options.js';
import { probeConnection } from '../../src/health/active-health-check.js';
import { createTestPki, startHttpsUpstream, type HttpsUpstream, type TestPki } from '../helpers/tls.js';

const probes = (u: HttpsUpstream): number => u.requests.filter((r) => r.url === '/health').length;

async function waitFor(what: string, condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Ejections the client published, by endpoint id. */
function ejections(service: string): { readonly ids: string[]; stop(): void } {
  const ids: string[] = [];
  const stop = subscribe('ejection', (m) => {
    if (m.service === service && m.ejected) ids.push(m.endpoint.id);
  });
  return { ids, stop };
}

describe('active health checks on an https transport', () => {
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

  it('probes over TLS with the transport\'s CA and keeps healthy endpoints in rotation', async (t) => {
    const ejected = ejections('checked-tls');
    t.after(() => ejected.stop());
    await using c = client('checked-tls').endpoints(ups.map((u) => u.address)).balancer(roundRobin()).retry(false)
      .transport(undiciTransport({ protocol: 'https', tls: { ca: pki.ca.cert } }))
      .healthCheck({ interval: '20ms', jitter: '5ms', timeout: '500ms', unhealthyThreshold: 2 })
      .build();
    await waitFor('three TLS probes of each endpoint', () => ups.every((u) => probes(u) >= 3));
    assert.deepEqual(ejected.ids, [], 'no endpoint left rotation');
    assert.equal(c.endpoints().available.length, 2);
    assert.ok(c.endpoints().health.every((h) => !h.ejected));
    for (const u of ups) assert.ok(u.requests.filter((r) => r.url === '/health').every((r) => r.headers['user-agent'] === 'meshkit-health-check'));
    for (let i = 0; i < 4; i++) await (await c.request({ path: '/data' })).body.dump();
    assert.ok(ups.every((u) => u.requests.some((r) => r.url === '/data')), 'traffic reaches both');
  });

  it('still takes an endpoint out whose /health fails over TLS', async (t) => {
    const [sick] = ups as [HttpsUpstream, HttpsUpstream];
    sick.handler = (req, res) => {
      res.writeHead(req.url === '/health' ? 503 : 200);
      res.end();
    };
    t.after(() => {
      sick.handler = undefined;
    });
    await using c = client('sick-tls').endpoints(ups.map((u) => u.address)).retry(false)
      .transport(undiciTransport({ protocol: 'https', tls: { ca: pki.ca.cert } }))
      .healthCheck({ interval: '20ms', jitter: '5ms', unhealthyThreshold: 2 })
      .build();
    await waitFor('the sick endpoint to leave rotation', () => c.endpoints().available.length === 1);
    assert.equal(c.endpoints().health.find((h) => h.id === sick.address)?.reason, 'active-health-check');
  });

  it('presents the transport\'s client certificate to a server that requires one', async (t) => {
    const ejected = ejections('checked-mtls');
    t.after(() => ejected.stop());
    await using c = client('checked-mtls').endpoints([mutual.address]).retry(false)
      .transport(undiciTransport({ protocol: 'https', tls: { ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key } }))
      .healthCheck({ interval: '20ms', jitter: '5ms', unhealthyThreshold: 2 })
      .build();
    await waitFor('three probes', () => probes(mutual) >= 3);
    assert.ok(mutual.requests.filter((r) => r.url === '/health').every((r) => r.clientCommonName === 'meshkit test client'));
    assert.deepEqual(ejected.ids, []);
    assert.deepEqual(mutual.refusedHandshakes, []);
  });

  it('probes follow the transport unless the health check asks for https itself', () => {
    const transport = undiciTransport({ protocol: 'https', tls: { ca: pki.ca.cert } }).connection;
    assert.deepEqual(probeConnection(resolveHealthCheck({}), transport), transport);
    assert.deepEqual(probeConnection(resolveHealthCheck({})), { protocol: 'http', tls: undefined });
    // A transport of your own that does not describe itself: the health check's own settings.
    const own: HttpTransportFactory = { name: 'own', create: () => undiciTransport().create() };
    assert.equal(own.connection, undefined);
    assert.deepEqual(probeConnection(resolveHealthCheck({ protocol: 'https', tls: { ca: pki.ca.cert } }), own.connection),
      { protocol: 'https', tls: { ca: pki.ca.cert } });
    // https on the health check alone keeps the transport's TLS options.
    assert.deepEqual(probeConnection(resolveHealthCheck({ protocol: 'https' }), transport), transport);
  });
});
