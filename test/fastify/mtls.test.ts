/**
 * meshkit/fastify with mutual TLS: a Fastify server created with
 * identityServerOptions(), the plugin's identity and authorize options,
 * real HTTPS on 127.0.0.1 with file identities.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { client, fileIdentity, isMeshkitError, type Identity } from '../../src/index.js';
import { meshkit } from '../../src/fastify/index.js';
import { identityServerOptions, type Authorizer } from '../../src/server/index.js';
import { createCertificateAuthority, type CertificateAuthority } from '../helpers/tls.js';
import { rawCall } from '../security/mtls-calls.js';

const spiffe = (service: string): string => `spiffe://aaaa.consul/ns/default/dc/dc1/svc/${service}`;

function identityFor(ca: CertificateAuthority, service: string, dir: string): { identity: Identity; rewrite: () => void } {
  const files = { cert: path.join(dir, `${service}.crt`), key: path.join(dir, `${service}.key`), ca: path.join(dir, `${service}-ca.pem`) };
  const rewrite = (): void => {
    const leaf = ca.issue({ commonName: service, altNames: [spiffe(service)], usage: 'both' });
    for (const [file, text] of [[files.cert, leaf.cert], [files.key, leaf.key], [files.ca, ca.cert]] as const) {
      writeFileSync(`${file}.tmp`, text);
      renameSync(`${file}.tmp`, file);
    }
  };
  rewrite();
  return { identity: fileIdentity({ ...files, interval: '20ms' }), rewrite };
}

describe('meshkit/fastify over mutual TLS', () => {
  const ca = createCertificateAuthority('fastify mesh CA');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meshkit-fastify-mtls-'));
  const ids = { orders: identityFor(ca, 'orders', dir), web: identityFor(ca, 'web', dir), billing: identityFor(ca, 'billing', dir) };
  const asked: string[] = [];
  // An authorizer of our own: web may call, anyone else may not (answers asynchronously, as a remote one would).
  const authorizer: Authorizer = {
    authorize: async (peer) => {
      asked.push(peer.spiffeId);
      return { allowed: peer.service === 'web', reason: peer.service === 'web' ? 'web is allowed' : 'only web' };
    },
  };
  let app: FastifyInstance;
  let port: number;

  before(async () => {
    // A client's first call does not wait for its identity (it fails with ERR_PEER_IDENTITY, not-loaded): load them all first.
    await Promise.all(Object.values(ids).map(({ identity }) => identity.ready()));
    app = Fastify({ https: await identityServerOptions(ids.orders.identity) });
    await app.register(meshkit, { service: 'orders', identity: ids.orders.identity, authorize: authorizer, lifecycle: { signals: [] } });
    app.get('/who', async (request) => ({ peer: request.raw.meshkit?.peer, serverSerial: ids.orders.identity.current()?.serialNumber }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as { port: number }).port;
  });

  after(async () => {
    await app.close();
    for (const { identity } of Object.values(ids)) await identity.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('admits a caller the authorizer allows, with request.raw.meshkit.peer', async (t) => {
    const c = client('orders').endpoints([`127.0.0.1:${port}`]).identity(ids.web.identity).build();
    t.after(() => c.close());
    const res = await c.request({ path: '/who' });
    assert.equal(res.statusCode, 200);
    assert.equal((await res.body.json() as { peer: string }).peer, 'web');
    assert.ok(asked.includes(spiffe('web')));
  });

  it('answers a caller the authorizer refuses 403 ERR_FORBIDDEN before the handler', async (t) => {
    const c = client('orders').endpoints([`127.0.0.1:${port}`]).identity(ids.billing.identity).build();
    t.after(() => c.close());
    const res = await c.request({ path: '/who' });
    assert.equal(res.statusCode, 403);
    assert.deepEqual(await res.body.json(), { error: 'forbidden', code: 'ERR_FORBIDDEN' });
  });

  it('gates upgrades too: a refused caller gets 403 before any upgrade listener on the server, an admitted one reaches it with req.meshkit', async (t) => {
    const reached: string[] = [];
    const onUpgrade = (req: IncomingMessage, socket: Duplex): void => {
      reached.push(req.meshkit?.peer ?? '(none)');
      socket.end(`HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nx-peer: ${req.meshkit?.peer ?? '(none)'}\r\n\r\n`);
    };
    app.server.on('upgrade', onUpgrade);
    t.after(() => app.server.removeListener('upgrade', onUpgrade));
    const headers = { connection: 'Upgrade', upgrade: 'websocket' };
    const leafOf = (service: 'web' | 'billing'): { cert: string; key: string } => {
      const material = ids[service].identity.current();
      return { cert: material?.cert ?? '', key: material?.key ?? '' };
    };
    const refused = await rawCall({ port, leaf: leafOf('billing'), ca: ca.cert, headers });
    assert.equal(refused.status, 403);
    assert.deepEqual(JSON.parse(refused.body ?? ''), { error: 'forbidden', code: 'ERR_FORBIDDEN' });
    assert.deepEqual(reached, []);
    const admitted = await rawCall({ port, leaf: leafOf('web'), ca: ca.cert, headers });
    assert.equal(admitted.status, 101);
    assert.equal(admitted.header, 'web');
    assert.deepEqual(reached, ['web']);
  });

  it('refuses a client without a certificate at the handshake', async () => {
    const outcome = await new Promise<string>((resolve) => {
      https.get({ host: '127.0.0.1', port, path: '/who', ca: ca.cert, agent: false, checkServerIdentity: () => undefined }, (res) => {
        res.resume();
        resolve(`status ${res.statusCode}`);
      }).on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    });
    assert.doesNotMatch(outcome, /^status/);
  });

  it('presents the renewed leaf to new connections after a rotation', async (t) => {
    const before = await ids.orders.identity.ready();
    const updated = new Promise<void>((resolve) => {
      const stop = ids.orders.identity.subscribe((event) => {
        if (event.type === 'updated') {
          stop();
          resolve();
        }
      });
    });
    ids.orders.rewrite();
    await updated;
    const after = ids.orders.identity.current();
    assert.ok(after !== undefined && after.serialNumber !== before.serialNumber);
    const presented = await new Promise<string>((resolve, reject) => {
      const web = ids.web.identity.current();
      https.get({ host: '127.0.0.1', port, path: '/who', ca: ca.cert, cert: web?.cert, key: web?.key, agent: false, checkServerIdentity: () => undefined }, (res) => {
        res.resume();
        resolve((res.socket as import('node:tls').TLSSocket).getPeerCertificate().serialNumber);
      }).on('error', reject);
    });
    assert.equal(presented, after.serialNumber);
    t.diagnostic(`server leaf ${before.serialNumber} -> ${after.serialNumber}`);
  });

  it('refuses identity on a plain HTTP Fastify, and authorize without identity', async () => {
    const plain = Fastify();
    await assert.rejects(async () => { await plain.register(meshkit, { identity: ids.web.identity, lifecycle: { signals: [] } }).ready(); },
      (e: unknown) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === 'meshkit.identity');
    await plain.close().catch(() => undefined);
    const other = Fastify();
    await assert.rejects(async () => { await other.register(meshkit, { authorize: authorizer, lifecycle: { signals: [] } }).ready(); },
      (e: unknown) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === 'meshkit.authorize');
    await other.close().catch(() => undefined);
  });
});
