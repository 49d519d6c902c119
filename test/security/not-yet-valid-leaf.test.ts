/**
 * "A leaf peers would refuse is never put in use", for a leaf whose
 * not-before is still ahead (issued early, the issuer's clock ahead): the
 * last good identity stays (marked stale), with none the client fails
 * locally (ERR_PEER_IDENTITY, blame local) and no endpoint is blamed. Real
 * HTTPS servers on 127.0.0.1 that require a valid client certificate.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { client, fileIdentity, isMeshkitError, type Identity, type IdentityMaterial } from '../../src/index.js';
import { noUsableIdentity, usableMaterial } from '../../src/security/client-connector.js';
import { parseServiceSpiffeId } from '../../src/security/spiffe.js';
import { VirtualClock } from '../../src/testing/index.js';
import { meshLeaf, spiffeIdOf } from '../helpers/identity.js';
import { identityFileWriter } from './identity-files.js';
import { createCertificateAuthority, startHttpsUpstream, type CertificateAuthority, type TlsMaterial } from '../helpers/tls.js';

const HOUR = 3_600_000;
/** A `web` leaf valid from `notBefore` for two hours. */
const futureLeaf = (ca: CertificateAuthority, notBefore: number): TlsMaterial =>
  ca.issue({ commonName: 'web', altNames: [spiffeIdOf('web')], usage: 'both', notBefore: new Date(notBefore), notAfter: new Date(notBefore + 2 * HOUR) });

const writeIdentity = identityFileWriter('meshkit-not-yet-');

async function until(timeoutMs: number, what: string, check: () => boolean, step?: () => Promise<void>): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await (step?.() ?? Promise.resolve());
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('a leaf not valid yet is never put in use', () => {
  const ca = createCertificateAuthority('not-yet-valid CA');

  it('a rotation to a leaf valid only in an hour keeps the last good one (stale, with the reason); calls go on and no endpoint is ejected', async (t) => {
    const servers = [await startHttpsUpstream({ server: meshLeaf(ca, 'orders'), clientCa: ca.cert }), await startHttpsUpstream({ server: meshLeaf(ca, 'orders'), clientCa: ca.cert })];
    t.after(() => Promise.all(servers.map((s) => s.close())));
    const dir = mkdtempSync(path.join(os.tmpdir(), 'meshkit-not-yet-'));
    const goodLeaf = meshLeaf(ca, 'web');
    const identity = fileIdentity({ ...writeIdentity(goodLeaf, ca.cert, dir), interval: '20ms' });
    t.after(() => identity.close());
    const good = await identity.ready();
    const orders = client('orders').endpoints(servers.map((s) => s.address)).identity(identity, { keepAliveTimeout: '10ms' })
      .outlierDetection({ consecutiveGatewayFailures: 2, maxEjectionPercent: 100, panicThreshold: 0 }).build();
    t.after(() => orders.close());

    writeIdentity(futureLeaf(ca, Date.now() + HOUR), ca.cert, dir);
    await until(3000, 'the early leaf was refused', () => identity.status().stale);
    assert.equal(identity.current(), good, 'the last good leaf stays in use');
    assert.match(identity.status().lastError ?? '', /not valid before .* put in use once that time has come/);
    for (let i = 0; i < 6; i += 1) {
      const res = await orders.request({ path: `/after/${i}` });
      assert.equal(res.statusCode, 200);
      await res.body.dump();
      await new Promise((resolve) => setTimeout(resolve, 15)); // idle connections close: new handshakes
    }
    assert.deepEqual(servers.map((s) => s.refusedHandshakes), [[], []], 'no server was shown a leaf it refuses');
    assert.deepEqual(orders.snapshot().endpoints.map((e) => e.ejected), [false, false]);

    // The issuer rolls the files back to the leaf in use: nothing changes, and it is no longer stale.
    writeIdentity(goodLeaf, ca.cert, dir);
    await until(3000, 'the identity recovered', () => !identity.status().stale);
    assert.equal(identity.current(), good);
  });

  it('with nothing loaded, calls fail locally (ERR_PEER_IDENTITY, blame local) without a connection, and the endpoint is not blamed', async (t) => {
    const server = await startHttpsUpstream({ server: meshLeaf(ca, 'orders'), clientCa: ca.cert });
    t.after(() => server.close());
    const connections: unknown[] = [];
    server.server.on('connection', (socket) => connections.push(socket));
    const identity: Identity = fileIdentity({ ...writeIdentity(futureLeaf(ca, Date.now() + HOUR), ca.cert), interval: '20ms' });
    t.after(() => identity.close());
    await until(3000, 'the first load failed', () => identity.status().stale);
    assert.equal(identity.current(), undefined);
    assert.match(identity.status().lastError ?? '', /not valid before/);
    const orders = client('orders').endpoints([server.address]).identity(identity).retry(false)
      .outlierDetection({ consecutiveGatewayFailures: 1, maxEjectionPercent: 100, panicThreshold: 0 }).build();
    t.after(() => orders.close());
    for (let i = 0; i < 3; i += 1) {
      const error = await orders.request({ path: '/' }).then(() => undefined, (e: unknown) => e);
      assert.ok(isMeshkitError(error, 'ERR_PEER_IDENTITY'), `expected ERR_PEER_IDENTITY, got ${String(error)}`);
      assert.equal(error.blame, 'local');
      assert.equal(error.details['reason'], 'not-loaded');
      assert.match(error.message, /not valid before/, 'the message says why nothing is loaded');
    }
    assert.equal(connections.length, 0, 'no connection was opened');
    assert.equal(orders.snapshot().endpoints[0]?.ejected, false);
  });

  it('is judged by the source clock\'s wall time: the leaf is put in use on the first check after its not-before', async (t) => {
    const notBefore = Math.ceil((Date.now() + HOUR) / 1000) * 1000;
    const clock = new VirtualClock(0, 1, notBefore - 60_000);
    const identity = fileIdentity({ ...writeIdentity(futureLeaf(ca, notBefore), ca.cert), interval: '10s', readyTimeout: '1h', clock });
    t.after(() => identity.close());
    await until(3000, 'the first load failed', () => identity.status().stale);
    assert.equal(identity.current(), undefined, 'a minute early by the source\'s clock');
    await clock.advance(30_000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(identity.current(), undefined, 'still 30 s early');
    await until(3000, 'the leaf was put in use', () => identity.current() !== undefined, () => clock.advance(10_000));
    const material = await identity.ready();
    assert.equal(material.notBefore?.getTime(), notBefore);
    assert.ok(clock.wallNow() >= notBefore);
    assert.equal(identity.status().stale, false);
  });

  it('a client never presents material of another source before its not-before (set, or read from the leaf)', () => {
    const clock = new VirtualClock(0, 1, Date.now());
    const early = futureLeaf(ca, Date.now() + HOUR);
    const base = { ...early, ca: [ca.cert], spiffeId: parseServiceSpiffeId(spiffeIdOf('web'))!, serialNumber: '01', notAfter: new Date(Date.now() + 3 * HOUR), version: 1 };
    for (const material of [{ ...base, notBefore: new Date(Date.now() + HOUR) }, base] as IdentityMaterial[]) {
      const identity: Identity = {
        kind: 'custom', clock, current: () => material, ready: async () => material, subscribe: () => () => undefined, close: async () => undefined,
        status: () => ({ kind: 'custom', spiffeId: spiffeIdOf('web'), notAfter: material.notAfter, stale: false, lastError: undefined, version: 1 }),
      };
      assert.equal(usableMaterial(identity), undefined, material.notBefore === undefined ? 'read from the leaf' : 'the material\'s notBefore');
      const error = noUsableIdentity(identity, material);
      assert.equal(error.code, 'ERR_PEER_IDENTITY');
      assert.equal(error.blame, 'local');
      assert.equal(error.details['reason'], 'not-yet-valid');
    }
  });
});
