/**
 * connectIdentity never puts an expired leaf in use. A real Consul agent
 * cannot be made to issue an expired leaf, so the seam is `address`: a real
 * HTTP server on 127.0.0.1 answering the agent's two Connect endpoints
 * (`/v1/agent/connect/ca/roots`, `/v1/agent/connect/ca/leaf/<service>`)
 * with certificates made by the test PKI and an `X-Consul-Index` that moves
 * when the answer changes.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { connectIdentity } from '../../src/consul/index.js';
import { createCertificateAuthority, type CertificateAuthority, type TlsMaterial } from '../helpers/tls.js';
import { within } from './support.js';

const TRUST_DOMAIN = '11111111-2222-3333-4444-555555555555.consul';
const leaf = (ca: CertificateAuthority, service: string, notAfter?: Date): TlsMaterial => ca.issue({
  commonName: service, altNames: [`spiffe://${TRUST_DOMAIN}/ns/default/dc/dc1/svc/${service}`], usage: 'both', ...(notAfter === undefined ? {} : { notAfter }),
});

/** Answers like a Consul agent's Connect CA endpoints; `serve` changes the leaf (and the index). */
async function agentAnswering(ca: CertificateAuthority, service: string, first: TlsMaterial) {
  let current = first;
  let index = 1;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://agent');
    res.setHeader('content-type', 'application/json');
    res.setHeader('x-consul-index', String(index));
    if (url.pathname === '/v1/agent/connect/ca/roots') {
      res.end(JSON.stringify({ TrustDomain: TRUST_DOMAIN, Roots: [{ ID: 'test', RootCert: ca.cert, Active: true }] }));
    } else if (url.pathname === `/v1/agent/connect/ca/leaf/${service}`) {
      res.end(JSON.stringify({ Service: service, CertPEM: current.cert, PrivateKeyPEM: current.key }));
    } else {
      res.statusCode = 404;
      res.end('{}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    serve(material: TlsMaterial) {
      current = material;
      index += 1;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('connectIdentity and an expired leaf', () => {
  const ca = createCertificateAuthority('connect CA');
  const fast = { wait: '1s', minInterval: '20ms', backoff: { base: '20ms', cap: '100ms' } } as const;

  it('never loads an expired leaf the agent answers: nothing in use, stale with the reason', async (t) => {
    const agent = await agentAnswering(ca, 'web', leaf(ca, 'web', new Date(Date.now() - 60_000)));
    t.after(() => agent.close());
    const identity = connectIdentity({ service: 'web', address: agent.address, ...fast });
    t.after(() => identity.close());
    await within(5000, 'the expired leaf was refused', () => identity.status().stale);
    assert.equal(identity.current(), undefined);
    assert.match(identity.status().lastError ?? '', /connectIdentity\(web\).*expired at/);
  });

  it('keeps the last good leaf when the agent answers an expired one, and takes the next valid one', async (t) => {
    const agent = await agentAnswering(ca, 'web', leaf(ca, 'web'));
    t.after(() => agent.close());
    const identity = connectIdentity({ service: 'web', address: agent.address, ...fast });
    t.after(() => identity.close());
    const good = await identity.ready();
    agent.serve(leaf(ca, 'web', new Date(Date.now() - 60_000)));
    await within(5000, 'the expired leaf was refused', () => identity.status().stale);
    assert.equal(identity.current(), good, 'the last good leaf stays in use');
    const renewed = leaf(ca, 'web');
    agent.serve(renewed);
    await within(5000, 'the renewed leaf is in use', () => identity.current()?.cert === renewed.cert);
    assert.equal(identity.status().stale, false);
    assert.equal(identity.current()?.version, good.version + 1, 'the expired leaf never counted as a version');
  });
});
