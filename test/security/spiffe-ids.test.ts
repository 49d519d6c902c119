/**
 * Which certificates carry a SPIFFE ID, on both sides of a connection: the
 * ID must be the certificate's one URI SAN; only its scheme and trust domain
 * compare without case, its path exactly. The client's check of a server
 * and the server's reading of a caller (`Peer`, and so the authorizer)
 * follow the same rule. Real HTTPS on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { client, isMeshkitError } from '../../src/index.js';
import { listen, type MeshkitServer } from '../../src/express/index.js';
import type { Authorizer, Peer } from '../../src/index.js';
import * as spiffe from '../../src/security/spiffe.js';
import { spiffeIdOf, TEST_TRUST_DOMAIN, testFileIdentity } from '../helpers/identity.js';
import { createCertificateAuthority, startHttpsUpstream } from '../helpers/tls.js';
import { rawCall } from './mtls-calls.js';

const TD = TEST_TRUST_DOMAIN;
const UPPER_PATH = (service: string): string => `spiffe://${TD}/NS/default/DC/dc1/SVC/${service}`;

describe('SPIFFE IDs: parsing', () => {
  it('the scheme and trust domain compare without case, the path exactly', () => {
    const upperDomain = spiffe.parseServiceSpiffeId(`SPIFFE://${TD.toUpperCase()}/ns/default/dc/dc1/svc/orders`);
    assert.equal(upperDomain?.trustDomain, TD);
    assert.equal(upperDomain?.service, 'orders');
    assert.equal(spiffe.parseServiceSpiffeId(UPPER_PATH('orders')), undefined);
    assert.equal(spiffe.parseServiceSpiffeId(`spiffe://${TD}/ns/default/dc/dc1/SVC/orders`), undefined);
    assert.equal(spiffe.parseServiceSpiffeId(`spiffe://${TD}:8443/ns/default/dc/dc1/svc/orders`), undefined, 'no port in a trust domain');
    assert.equal(spiffe.parseServiceSpiffeId(`https://${TD}/ns/default/dc/dc1/svc/orders`), undefined);
  });

  it('the trust domain of any SPIFFE ID form, lower-cased', () => {
    assert.equal(spiffe.spiffeTrustDomain(spiffeIdOf('web')), TD);
    assert.equal(spiffe.spiffeTrustDomain('spiffe://Example.ORG/ns/payments/sa/api'), 'example.org');
    assert.equal(spiffe.spiffeTrustDomain('Spiffe://example.org'), 'example.org');
    for (const bad of ['spiffe:///ns/x', 'spiffe://user@example.org/x', 'spiffe://example.org:1/x', 'https://example.org/x']) {
      assert.equal(spiffe.spiffeTrustDomain(bad), undefined, bad);
    }
  });

  it('the SPIFFE ID is the one URI SAN: none with a second URI SAN of any scheme', () => {
    const id = spiffeIdOf('orders');
    assert.equal(spiffe.spiffeUriOf(`DNS:orders.local, URI:${id}, IP Address:127.0.0.1`), id);
    assert.equal(spiffe.spiffeUriOf(`URI:${id}, URI:https://orders.example/`), undefined);
    assert.equal(spiffe.spiffeUriOf(`URI:https://orders.example/, URI:${id}`), undefined);
    assert.equal(spiffe.spiffeUriOf(`URI:${id}, URI:"https://a.example/?q=\\u002c"`), undefined, 'a quoted URI SAN counts too');
    assert.equal(spiffe.spiffeUriOf('URI:https://orders.example/'), undefined);
    assert.equal(spiffe.spiffeUriOf('DNS:orders.local'), undefined);
  });
});

describe('SPIFFE IDs: the client\'s check of the server', () => {
  const ca = createCertificateAuthority('spiffe client CA');
  let web: Awaited<ReturnType<typeof testFileIdentity>>;
  before(async () => {
    web = await testFileIdentity(ca, 'web');
  });
  after(() => web.close());

  const callServerWith = async (altNames: string[]): Promise<unknown> => {
    const server = await startHttpsUpstream({ server: ca.issue({ commonName: 'orders', altNames, usage: 'both' }), clientCa: ca.cert });
    const orders = client('orders').endpoints([server.address]).identity(web.identity).retry(false).build();
    try {
      const res = await orders.request({ path: '/' });
      await res.body.dump();
      return res.statusCode;
    } catch (error) {
      return error;
    } finally {
      await orders.close();
      await server.close();
    }
  };

  it('accepts the trust domain in another case', async () => {
    assert.equal(await callServerWith([`spiffe://${TD.toUpperCase()}/ns/default/dc/dc1/svc/orders`]), 200);
  });

  it('refuses /NS/.../DC/.../SVC/ in upper case, and a second (non-SPIFFE) URI SAN', async () => {
    for (const altNames of [[UPPER_PATH('orders')], [spiffeIdOf('orders'), 'https://orders.example/']]) {
      const error = await callServerWith(altNames);
      assert.ok(isMeshkitError(error, 'ERR_PEER_IDENTITY'), `${altNames.join(' + ')}: expected ERR_PEER_IDENTITY, got ${String(error)}`);
      assert.equal(error.details['reason'], 'mismatch');
      assert.equal(error.details['expected'], spiffeIdOf('orders'));
    }
  });
});

describe('SPIFFE IDs: the server\'s reading of the caller (Peer, authorizer)', () => {
  const ca = createCertificateAuthority('spiffe server CA');
  let orders: Awaited<ReturnType<typeof testFileIdentity>>;
  let server: MeshkitServer;
  const asked: Peer[] = [];
  const authorizer: Authorizer = {
    authorize: (peer) => {
      asked.push(peer);
      return { allowed: true, reason: 'every verified peer' };
    },
  };

  before(async () => {
    orders = await testFileIdentity(ca, 'orders');
    server = await listen((req: http.IncomingMessage, res: http.ServerResponse) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ peer: req.meshkit?.peer, identity: req.meshkit?.peerIdentity }));
    }, { identity: orders.identity, authorize: authorizer, lifecycle: { signals: [] } });
  });
  after(async () => {
    await server.close();
    await orders.close();
  });

  const callAs = async (altNames: string[]): Promise<{ status?: number; json?: { peer?: string; identity?: Peer } }> => {
    const leaf = ca.issue({ commonName: 'caller', altNames, usage: 'both' });
    const answer = await rawCall({ port: server.port, leaf, ca: ca.cert });
    return { ...(answer.status === undefined ? {} : { status: answer.status }), ...(answer.status === 200 ? { json: JSON.parse(answer.body ?? '') } : {}) };
  };

  it('a Consul-style caller: service, spiffeId and trustDomain', async () => {
    const { status, json } = await callAs([spiffeIdOf('web')]);
    assert.equal(status, 200);
    assert.equal(json?.peer, 'web');
    assert.equal(json?.identity?.spiffeId, spiffeIdOf('web'));
    assert.equal(json?.identity?.trustDomain, TD);
    assert.equal(asked.at(-1)?.trustDomain, TD, 'the authorizer gets the trust domain');
  });

  it('a caller of another SPIFFE form: its trust domain, lower-cased, and no service', async () => {
    const { status, json } = await callAs(['spiffe://Example.ORG/ns/payments/sa/api']);
    assert.equal(status, 200);
    assert.equal(json?.identity?.trustDomain, 'example.org');
    assert.equal(json?.identity?.service, undefined);
    assert.equal(json?.peer, 'spiffe://Example.ORG/ns/payments/sa/api');
  });

  it('an upper-case /NS/.../SVC/ path names no service', async () => {
    const { status, json } = await callAs([UPPER_PATH('web')]);
    assert.equal(status, 200);
    assert.equal(json?.identity?.service, undefined);
    assert.equal(json?.peer, UPPER_PATH('web'));
  });

  it('a caller with a second URI SAN has no SPIFFE ID: refused 403 without asking the authorizer', async () => {
    const before = asked.length;
    const { status } = await callAs([spiffeIdOf('web'), 'https://web.example/']);
    assert.equal(status, 403);
    assert.equal(asked.length, before, 'the authorizer was not asked');
  });
});
