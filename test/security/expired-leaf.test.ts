/**
 * "A leaf past expiry is never presented": fileIdentity refuses an expired
 * leaf (nothing loaded, or the last good one kept), and a client whose leaf
 * expired while in use opens no connection with it — a real HTTPS server on
 * 127.0.0.1 that asks for client certificates and would accept an expired
 * one records every certificate it is shown.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { client, fileIdentity, isMeshkitError, type Identity } from '../../src/index.js';
import { usableMaterial } from '../../src/security/client-connector.js';
import { VirtualClock } from '../../src/testing/index.js';
import { identityFileWriter } from './identity-files.js';
import { createCertificateAuthority, type CertificateAuthority, type TlsMaterial } from '../helpers/tls.js';

const TRUST_DOMAIN = '11111111-2222-3333-4444-555555555555.consul';
const spiffe = (service: string): string => `spiffe://${TRUST_DOMAIN}/ns/default/dc/dc1/svc/${service}`;
const leaf = (ca: CertificateAuthority, service: string, notAfter?: Date): TlsMaterial =>
  ca.issue({ commonName: service, altNames: [spiffe(service)], usage: 'both', ...(notAfter === undefined ? {} : { notAfter }) });

const writeIdentity = identityFileWriter('meshkit-expired-');

async function until(timeoutMs: number, what: string, check: () => boolean): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** An mTLS server that asks for a client certificate but accepts any (even expired): it records what each connection presented. */
async function recordingServer(material: TlsMaterial, ca: string): Promise<{ port: number; presented: { serial: string; validTo: string }[]; connections: () => number; close(): Promise<void> }> {
  const presented: { serial: string; validTo: string }[] = [];
  let connections = 0;
  const server = https.createServer({ ...material, ca, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    req.resume();
    res.end('ok');
  });
  server.on('connection', () => (connections += 1));
  server.on('secureConnection', (socket: TLSSocket) => {
    const cert = socket.getPeerCertificate();
    if (cert.serialNumber !== undefined) presented.push({ serial: cert.serialNumber, validTo: cert.valid_to });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    presented,
    connections: () => connections,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('a leaf past expiry is never presented', () => {
  const ca = createCertificateAuthority('expiry CA');

  it('fileIdentity refuses an expired leaf: nothing is loaded, the identity reports stale with the reason', async (t) => {
    const identity = fileIdentity({ ...writeIdentity(leaf(ca, 'web', new Date(Date.now() - 60_000)), ca.cert), interval: '50ms' });
    t.after(() => identity.close());
    await until(5000, 'the first load failed', () => identity.status().stale);
    assert.equal(identity.current(), undefined);
    assert.match(identity.status().lastError ?? '', /expired at .*never put in use/);
    assert.equal(identity.status().version, 0);
  });

  it('fileIdentity keeps the last good leaf when an expired one replaces it on disk', async (t) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'meshkit-expired-'));
    const identity = fileIdentity({ ...writeIdentity(leaf(ca, 'web'), ca.cert, dir), interval: '50ms' });
    t.after(() => identity.close());
    const good = await identity.ready();
    writeIdentity(leaf(ca, 'web', new Date(Date.now() - 60_000)), ca.cert, dir);
    await until(5000, 'the expired leaf was refused', () => identity.status().stale);
    assert.equal(identity.current(), good, 'the last good leaf stays in use');
    assert.match(identity.status().lastError ?? '', /expired/);
  });

  it('a client whose leaf expired opens no connection with it: ERR_PEER_IDENTITY (blame local, reason expired), the server sees no expired certificate', async (t) => {
    const server = await recordingServer(leaf(ca, 'orders'), ca.cert);
    t.after(() => server.close());
    // UTCTime has whole seconds: this leaf expires 2-3 s from now.
    const shortLived = leaf(ca, 'web', new Date(Date.now() + 3000));
    const identity: Identity = fileIdentity({ ...writeIdentity(shortLived, ca.cert), interval: '50ms' });
    t.after(() => identity.close());
    const material = await identity.ready();
    const before = client('orders').endpoints([`127.0.0.1:${server.port}`]).identity(identity).build();
    t.after(() => before.close());
    const first = await before.request({ path: '/' });
    assert.equal(first.statusCode, 200);
    await first.body.dump();
    assert.deepEqual(server.presented.map((p) => p.serial), [material.serialNumber], 'the valid leaf was presented once');
    await before.close();

    await until(6000, 'the leaf expired', () => material.notAfter.getTime() < Date.now());
    const connectionsBefore = server.connections();
    const after = client('orders').endpoints([`127.0.0.1:${server.port}`]).identity(identity).retry(false).build();
    t.after(() => after.close());
    const error = await after.request({ path: '/' }).then(() => undefined, (e: unknown) => e);
    assert.ok(isMeshkitError(error, 'ERR_PEER_IDENTITY'), `expected ERR_PEER_IDENTITY, got ${String(error)}`);
    assert.equal(error.blame, 'local');
    assert.equal((error.details as { reason?: string }).reason, 'expired');
    assert.match(error.message, /expired at .* it is never presented/);
    assert.equal(server.connections(), connectionsBefore, 'no connection was even opened');
    assert.equal(server.presented.length, 1, 'the expired leaf was never presented');
    // Not the endpoint's fault: it stays in rotation.
    assert.equal(after.snapshot().endpoints[0]?.ejected, false);
  });
});

describe('expiry is judged by the wall time of the identity source\'s clock', () => {
  const ca = createCertificateAuthority('clock CA');

  it('a leaf still valid on the real clock is refused when the source\'s clock is past its not-after', async (t) => {
    const notAfter = Date.now() + 86_400_000;
    const clock = new VirtualClock(0, 1, notAfter + 60_000);
    const identity = fileIdentity({ ...writeIdentity(leaf(ca, 'web', new Date(notAfter)), ca.cert), interval: '50ms', clock });
    t.after(() => identity.close());
    assert.equal(identity.clock, clock);
    await until(5000, 'the first load failed', () => identity.status().stale);
    assert.equal(identity.current(), undefined);
    assert.match(identity.status().lastError ?? '', /expired at/);
  });

  it('a loaded leaf is no longer presented once the source\'s clock passes its not-after', async (t) => {
    const notAfter = Date.now() + 86_400_000;
    const clock = new VirtualClock(0, 1, notAfter - 60_000);
    const identity = fileIdentity({ ...writeIdentity(leaf(ca, 'web', new Date(notAfter)), ca.cert), interval: '1h', clock });
    t.after(() => identity.close());
    const material = await identity.ready();
    assert.equal(usableMaterial(identity), material);
    await clock.advance(60_000);
    assert.equal(usableMaterial(identity), undefined, 'expired by the identity\'s clock');
  });
});
