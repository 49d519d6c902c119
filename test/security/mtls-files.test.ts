/**
 * Mutual TLS with identities from PEM files: fileIdentity loading and
 * reloading, the client's SPIFFE peer check, and a meshkit/express server
 * that requires client certificates. Real HTTPS servers on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { client, fileIdentity, isMeshkitError, type Identity, type IdentityEvent } from '../../src/index.js';
import { listen, type MeshkitServer } from '../../src/express/index.js';
import { createCertificateAuthority, type CertificateAuthority, type TlsMaterial } from '../helpers/tls.js';

const TRUST_DOMAIN = '11111111-2222-3333-4444-555555555555.consul';
const spiffe = (service: string): string => `spiffe://${TRUST_DOMAIN}/ns/default/dc/dc1/svc/${service}`;
const leaf = (ca: CertificateAuthority, service: string): TlsMaterial => ca.issue({ commonName: service, altNames: [spiffe(service)], usage: 'both' });

function writeIdentity(dir: string, material: TlsMaterial, ca: string): { cert: string; key: string; ca: string } {
  const files = { cert: path.join(dir, 'cert.pem'), key: path.join(dir, 'key.pem'), ca: path.join(dir, 'ca.pem') };
  // Written beside and renamed, as cert-manager and SPIRE do: a reader never sees half a file.
  for (const [name, text] of [['cert', material.cert], ['key', material.key], ['ca', ca]] as const) {
    writeFileSync(`${files[name]}.tmp`, text);
    renameSync(`${files[name]}.tmp`, files[name]);
  }
  return files;
}

function nextEvent(identity: Identity, type: IdentityEvent['type']): Promise<IdentityEvent> {
  return new Promise((resolve) => {
    const stop = identity.subscribe((event) => {
      if (event.type !== type) return;
      stop();
      resolve(event);
    });
  });
}

/** GET over HTTPS with the given client material (or none); resolves with the status or the error code. */
function rawGet(port: number, options: https.RequestOptions): Promise<{ status?: number; error?: string; body?: string }> {
  return new Promise((resolve) => {
    const req = https.get({ host: '127.0.0.1', port, path: '/who', agent: false, checkServerIdentity: () => undefined, ...options }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
  });
}

describe('fileIdentity and mutual TLS over real HTTPS', () => {
  const ca = createCertificateAuthority('mesh CA');
  const dirs: string[] = [];
  const closers: (() => Promise<unknown>)[] = [];
  let ordersIdentity: Identity;
  let webIdentity: Identity;
  let orders: MeshkitServer;
  const seenPeers: (string | undefined)[] = [];

  const tempDir = (): string => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'meshkit-mtls-'));
    dirs.push(dir);
    return dir;
  };

  before(async () => {
    ordersIdentity = fileIdentity({ ...writeIdentity(tempDir(), leaf(ca, 'orders'), ca.cert), interval: '50ms' });
    webIdentity = fileIdentity({ ...writeIdentity(tempDir(), leaf(ca, 'web'), ca.cert), interval: '50ms' });
    closers.push(() => ordersIdentity.close(), () => webIdentity.close());
    orders = await listen((req: http.IncomingMessage, res: http.ServerResponse) => {
      seenPeers.push(req.meshkit?.peer);
      const cert = (req.socket as TLSSocket).getPeerCertificate();
      res.end(JSON.stringify({ peer: req.meshkit?.peer, serial: cert.serialNumber }));
    }, { identity: ordersIdentity, lifecycle: { signals: [] } });
    closers.push(() => orders.close());
  });

  after(async () => {
    for (const close of closers.reverse()) await close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('loads the leaf, its SPIFFE ID and expiry', async () => {
    const material = await webIdentity.ready();
    assert.equal(material.spiffeId.uri, spiffe('web'));
    assert.equal(material.spiffeId.service, 'web');
    assert.equal(material.spiffeId.trustDomain, TRUST_DOMAIN);
    assert.ok(material.notAfter.getTime() > Date.now());
    assert.equal(webIdentity.status().stale, false);
  });

  it('calls a server presenting the callee\'s SPIFFE ID, which sees the caller as its peer', async () => {
    const c = client('orders').endpoints([orders.address]).identity(webIdentity).build();
    closers.push(() => c.close());
    const res = await c.request({ path: '/who' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual((await res.body.json() as { peer: string }).peer, 'web');
  });

  it('refuses plaintext, a client without a certificate, and one from another CA', async () => {
    const plain = await new Promise<string>((resolve) => {
      http.get({ host: '127.0.0.1', port: orders.port, path: '/who', agent: false }, (res) => {
        res.resume();
        resolve(`status ${res.statusCode}`);
      }).on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    });
    assert.match(plain, /ECONNRESET|HPE_|socket hang up|status 400/, `plaintext got ${plain}`);
    const noCert = await rawGet(orders.port, { ca: ca.cert });
    assert.equal(noCert.status, undefined, 'no client certificate: no answer');
    const strangerCa = createCertificateAuthority('stranger CA');
    const stranger = leaf(strangerCa, 'web');
    const foreign = await rawGet(orders.port, { ca: ca.cert, cert: stranger.cert, key: stranger.key });
    assert.equal(foreign.status, undefined, 'a certificate from another CA: no answer');
    const good = leaf(ca, 'web');
    assert.equal((await rawGet(orders.port, { ca: ca.cert, cert: good.cert, key: good.key })).status, 200);
  });

  it('fails with ERR_PEER_IDENTITY when the server presents another service\'s valid certificate', async () => {
    const impostorIdentity = fileIdentity({ ...writeIdentity(tempDir(), leaf(ca, 'billing'), ca.cert), interval: '50ms' });
    closers.push(() => impostorIdentity.close());
    const impostor = await listen((_req: http.IncomingMessage, res: http.ServerResponse) => res.end('secret'), { identity: impostorIdentity, lifecycle: { signals: [] } });
    closers.push(() => impostor.close());
    const c = client('orders').endpoints([impostor.address]).identity(webIdentity).retry(false).build();
    closers.push(() => c.close());
    await assert.rejects(c.request({ path: '/who' }), (error: unknown) => {
      assert.ok(isMeshkitError(error, 'ERR_PEER_IDENTITY'), String(error));
      assert.equal(error.details['expected'], spiffe('orders'));
      assert.equal(error.details['presented'], spiffe('billing'));
      assert.equal(error.blame, 'upstream');
      assert.equal(error.endpoint, impostor.address);
      return true;
    });
  });

  it('rotates: new connections present the new leaf, calls in flight are not failed', async () => {
    const dir = tempDir();
    const first = leaf(ca, 'web');
    const rotating = fileIdentity({ ...writeIdentity(dir, first, ca.cert), interval: '20ms' });
    closers.push(() => rotating.close());
    const before = await rotating.ready();
    const c = client('orders').endpoints([orders.address]).identity(rotating, { keepAliveTimeout: '50ms' }).build();
    closers.push(() => c.close());
    const serialOf = async (): Promise<string> => (await (await c.request({ path: '/who' })).body.json() as { serial: string }).serial;
    assert.equal(await serialOf(), before.serialNumber);
    const updated = nextEvent(rotating, 'updated');
    const second = leaf(ca, 'web');
    // Calls keep running across the swap.
    const load = Array.from({ length: 20 }, (_, i) => new Promise((r) => setTimeout(r, i * 5)).then(() => c.request({ path: '/who' }).then((res) => res.body.text())));
    writeIdentity(dir, second, ca.cert);
    const event = await updated;
    assert.equal(event.type, 'updated');
    await Promise.all(load);
    const after = rotating.current();
    assert.ok(after !== undefined && after.version === before.version + 1);
    // Idle keep-alive connections close after 50 ms; the next one handshakes with the new leaf.
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(await serialOf(), after.serialNumber);
  });

  it('keeps the last good identity, marked stale, while the files are broken', async () => {
    const dir = tempDir();
    const files = writeIdentity(dir, leaf(ca, 'web'), ca.cert);
    const identity = fileIdentity({ ...files, interval: '20ms' });
    closers.push(() => identity.close());
    const good = await identity.ready();
    const stale = nextEvent(identity, 'stale');
    // A key that does not belong to the certificate (a rotation caught half-way).
    writeFileSync(files.key, leaf(ca, 'web').key);
    await stale;
    assert.equal(identity.status().stale, true);
    assert.match(identity.status().lastError ?? '', /private key does not belong/);
    assert.equal(identity.current(), good);
    const recovered = nextEvent(identity, 'updated');
    writeIdentity(dir, leaf(ca, 'web'), ca.cert);
    await recovered;
    assert.equal(identity.status().stale, false);
  });

  it('refuses bad options with ERR_INVALID_CONFIG', () => {
    assert.throws(() => fileIdentity({ cert: 'a', key: 'b', ca: 'c', intervall: '1s' } as never), (e: unknown) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && /did you mean `interval`/.test(e.message));
    assert.throws(() => fileIdentity({ cert: 'a', key: 'b' } as never), (e: unknown) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === 'fileIdentity.ca');
    assert.throws(() => client('orders').endpoints(['127.0.0.1:1']).identity({} as never), (e: unknown) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === 'transport.identity');
    assert.throws(() => client('orders').endpoints(['127.0.0.1:1']).identity(webIdentity, { tls: { rejectUnauthorized: false } }),
      (e: unknown) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === 'transport.tls.rejectUnauthorized');
  });
});

describe('classifying ERR_PEER_IDENTITY', () => {
  it('a server with the wrong identity is the endpoint\'s connect failure; no identity of our own is local', async () => {
    const { classifyError } = await import('../../src/transports/error-classifier.js');
    const { peerIdentityMismatch } = await import('../../src/security/client-connector.js');
    const { MeshkitError } = await import('../../src/core/errors.js');
    const mismatch = classifyError(peerIdentityMismatch(spiffe('orders'), spiffe('billing')));
    assert.equal(mismatch.blame, 'upstream');
    assert.equal(mismatch.reason, 'connect');
    const local = classifyError(new MeshkitError('ERR_PEER_IDENTITY', 'none', { reason: 'expired' }, { blame: 'local' }));
    assert.equal(local.blame, 'local');
    assert.equal(local.retryable, false);
  });
});
