/**
 * The drain cuts off upgraded (WebSocket) and CONNECT connections at
 * `drainTimeout` on an mTLS server too, where the authorization gate holds
 * those events back: close() always ends. Real HTTPS on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { describe, it } from 'node:test';
import { listen } from '../../src/express/index.js';
import type { Authorizer } from '../../src/index.js';
import { meshLeaf, testFileIdentity } from '../helpers/identity.js';
import { createCertificateAuthority } from '../helpers/tls.js';

describe('meshkit/express listen with identity: drain with upgraded and CONNECT connections', () => {
  it('destroys them at drainTimeout and close() ends', async () => {
    const ca = createCertificateAuthority('drain CA');
    const web = meshLeaf(ca, 'web');
    const orders = await testFileIdentity(ca, 'orders');
    const authorizer: Authorizer = { authorize: async (peer) => ({ allowed: peer.service === 'web', reason: 'only web' }) };
    const s = await listen((_req, res) => res.end('x'), { identity: orders.identity, authorize: authorizer, lifecycle: { signals: [], drainTimeout: '200ms', propagationDelay: 0 } });
    const keepOpen = (_req: unknown, socket: Duplex, line: string): void => {
      socket.on('error', () => {});
      socket.write(line);
    };
    s.server.on('upgrade', (req, socket: Duplex) => keepOpen(req, socket, 'HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\r\n'));
    s.server.on('connect', (req, socket: Duplex) => keepOpen(req, socket, 'HTTP/1.1 200 Connection Established\r\n\r\n'));
    const open = (method: string, headers: Record<string, string>): Promise<Duplex> => new Promise((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port: s.port, method, path: method === 'CONNECT' ? 'example:443' : '/', agent: false,
        ca: ca.cert, cert: web.cert, key: web.key, headers, checkServerIdentity: () => undefined });
      req.on('upgrade', (_res, socket) => resolve(socket));
      req.on('connect', (_res, socket) => resolve(socket));
      req.on('error', reject);
      req.end();
    });
    const sockets = [await open('GET', { connection: 'Upgrade', upgrade: 'websocket' }), await open('CONNECT', {})];
    const closedSockets = sockets.map((socket) => {
      socket.on('error', () => {});
      return new Promise<void>((resolve) => socket.once('close', () => resolve()));
    });
    let hung: NodeJS.Timeout | undefined;
    try {
      const outcome = await Promise.race([
        s.close().then(() => 'closed'),
        new Promise<string>((resolve) => { hung = setTimeout(() => resolve('still draining'), 3000); }),
      ]);
      assert.equal(outcome, 'closed');
      await Promise.all(closedSockets);
    } finally {
      clearTimeout(hung);
      for (const socket of sockets) socket.destroy();
      await orders.close();
    }
  });
});
