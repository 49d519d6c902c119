/**
 * meshkit/got on a client with an identity: every attempt uses the same
 * mutual TLS as `client.request` (the identity's leaf, only its roots, the
 * peer's SPIFFE ID checked; an expired leaf never presented). Real HTTPS
 * servers on 127.0.0.1 that require client certificates.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RequestError } from 'got';
import { client, isMeshkitError, type Identity, type IdentityMaterial } from '../../src/index.js';
import { parseServiceSpiffeId } from '../../src/security/spiffe.js';
import { meshkitGot } from '../../src/got/index.js';
import { meshLeaf, spiffeIdOf, startMeshPair, type MeshPair } from '../helpers/identity.js';
import { createCertificateAuthority, type HttpsUpstream } from '../helpers/tls.js';

describe('meshkit/got with a service identity (mutual TLS)', () => {
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

  it('presents the identity\'s leaf to a server that requires client certificates', async () => {
    await using c = client('orders').endpoints([orders.address]).retry(false).identity(web.identity).build();
    const api = meshkitGot(c);
    const response = await api.post('v1/orders', { json: { n: 1 } });
    assert.equal(response.statusCode, 200);
    assert.equal(response.url, 'https://orders/v1/orders', 'the identity implies https');
    assert.equal(response.body, `ok ${orders.port}`);
    assert.equal(orders.requests.at(-1)?.clientCommonName, 'web');
    assert.deepEqual(orders.refusedHandshakes, []);
  });

  it('refuses a server whose certificate names another service: ERR_PEER_IDENTITY naming both IDs, nothing sent', async () => {
    const before = impostor.requests.length;
    await using c = client('orders').endpoints([impostor.address]).retry(false).identity(web.identity).build();
    const error = await meshkitGot(c).get('v1/orders/1').then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof RequestError, `expected got's RequestError, got ${String(error)}`);
    const cause = (error as RequestError & { cause?: unknown }).cause ?? error;
    const peer = [error, cause].find((e) => isMeshkitError(e, 'ERR_PEER_IDENTITY'));
    assert.ok(peer !== undefined && isMeshkitError(peer), `expected ERR_PEER_IDENTITY in ${String(error)} / ${String(cause)}`);
    assert.equal(peer.details['expected'], spiffeIdOf('orders'));
    assert.equal(peer.details['presented'], spiffeIdOf('billing'));
    assert.equal(impostor.requests.length, before);
  });

  it('never presents an expired leaf: the attempt fails locally with ERR_PEER_IDENTITY (reason expired) and opens no connection', async () => {
    // An identity source of one's own whose leaf is past its not-after (sources built in refuse to load one).
    const leaf = meshLeaf(ca, 'web');
    const material: IdentityMaterial = {
      ...leaf, ca: [ca.cert], spiffeId: parseServiceSpiffeId(spiffeIdOf('web'))!, serialNumber: '01', notAfter: new Date(Date.now() - 1000), version: 1,
    };
    const expired: Identity = {
      kind: 'expired-test', current: () => material, ready: async () => material, subscribe: () => () => undefined,
      status: () => ({ kind: 'expired-test', spiffeId: spiffeIdOf('web'), notAfter: material.notAfter, stale: false, lastError: undefined, version: 1 }),
      close: async () => undefined,
    };
    const before = orders.requests.length;
    const refusedBefore = orders.refusedHandshakes.length;
    await using c = client('orders').endpoints([orders.address]).retry(false).identity(expired).build();
    const error = await meshkitGot(c).get('v1/orders/2').then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof RequestError, `expected got's RequestError, got ${String(error)}`);
    const cause = (error as RequestError & { cause?: unknown }).cause ?? error;
    const local = [error, cause].find((e) => isMeshkitError(e, 'ERR_PEER_IDENTITY'));
    assert.ok(local !== undefined && isMeshkitError(local), `expected ERR_PEER_IDENTITY in ${String(error)} / ${String(cause)}`);
    assert.equal(local.blame, 'local');
    assert.equal(local.details['reason'], 'expired');
    assert.equal(orders.requests.length, before);
    assert.equal(orders.refusedHandshakes.length, refusedBefore, 'no handshake was attempted with the expired leaf');
    assert.ok(c.endpoints().health.every((h) => !h.ejected), 'our own expiry is not the endpoint\'s fault');
  });
});
