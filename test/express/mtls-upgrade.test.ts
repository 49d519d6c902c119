/**
 * listen({ identity, authorize }): requests the server hands over without a
 * 'request' event (a WebSocket upgrade, CONNECT, Expect: 100-continue) pass
 * the authorizer too, before any listener the application adds. Real HTTPS
 * on 127.0.0.1 with file identities.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { listen, type MeshkitServer } from '../../src/express/index.js';
import type { Authorizer } from '../../src/index.js';
import { meshLeaf, testFileIdentity } from '../helpers/identity.js';
import { createCertificateAuthority } from '../helpers/tls.js';
import { rawCall } from '../security/mtls-calls.js';

const FORBIDDEN = { error: 'forbidden', code: 'ERR_FORBIDDEN' };
const UPGRADE = { connection: 'Upgrade', upgrade: 'websocket' };

function switchProtocols(req: http.IncomingMessage, socket: Duplex): void {
  socket.end(`HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nx-peer: ${req.meshkit?.peer ?? '(none)'}\r\n\r\n`);
}

describe('meshkit/express listen with identity: upgrades, CONNECT and 100-continue pass the authorizer', () => {
  const ca = createCertificateAuthority('upgrade CA');
  const web = meshLeaf(ca, 'web');
  const billing = meshLeaf(ca, 'billing');
  let orders: Awaited<ReturnType<typeof testFileIdentity>>;
  let server: MeshkitServer;
  let plain: MeshkitServer;
  const reached: string[] = [];
  // Only web may call; decided asynchronously, as a remote authorizer does.
  const authorizer: Authorizer = {
    authorize: async (peer) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return { allowed: peer.service === 'web', reason: 'only web' };
    },
  };
  const app = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    req.resume();
    res.setHeader('x-peer', req.meshkit?.peer ?? '(none)');
    res.end('app ran');
  };

  before(async () => {
    orders = await testFileIdentity(ca, 'orders');
    server = await listen(app, { identity: orders.identity, authorize: authorizer, lifecycle: { signals: [] } });
    // Listeners as an application adds them, prepended ones included: none may see a refused caller.
    server.server.prependListener('upgrade', (req: http.IncomingMessage) => reached.push(`upgrade(prepended) ${req.meshkit?.peer ?? '(none)'}`));
    server.server.on('upgrade', (req: http.IncomingMessage, socket: Duplex) => {
      reached.push(`upgrade ${req.meshkit?.peer ?? '(none)'}`);
      switchProtocols(req, socket);
    });
    server.server.on('connect', (req: http.IncomingMessage, socket: Duplex) => {
      reached.push(`connect ${req.meshkit?.peer ?? '(none)'}`);
      socket.end(`HTTP/1.1 200 Connection Established\r\nx-peer: ${req.meshkit?.peer ?? '(none)'}\r\n\r\n`);
    });
    server.server.on('checkContinue', (req: http.IncomingMessage, res: http.ServerResponse) => {
      reached.push(`checkContinue ${req.meshkit?.peer ?? '(none)'}`);
      res.writeContinue();
      app(req, res);
    });
    // A server without upgrade listeners: Node hands an Upgrade request to the app, as before.
    plain = await listen(app, { identity: orders.identity, authorize: authorizer, lifecycle: { signals: [] } });
  });
  after(async () => {
    await server.close();
    await plain.close();
    await orders.close();
  });

  it('a refused caller\'s upgrade gets 403 ERR_FORBIDDEN and reaches no upgrade listener', async () => {
    const before = reached.length;
    const answer = await rawCall({ port: server.port, leaf: billing, ca: ca.cert, headers: UPGRADE });
    assert.equal(answer.status, 403);
    assert.equal(answer.upgraded, undefined);
    assert.deepEqual(JSON.parse(answer.body ?? ''), FORBIDDEN);
    assert.deepEqual(reached.slice(before), []);
  });

  it('an admitted caller\'s upgrade reaches every upgrade listener with req.meshkit set', async () => {
    const before = reached.length;
    const answer = await rawCall({ port: server.port, leaf: web, ca: ca.cert, headers: UPGRADE });
    assert.equal(answer.status, 101);
    assert.equal(answer.upgraded, true);
    assert.equal(answer.header, 'web');
    assert.deepEqual(reached.slice(before), ['upgrade(prepended) web', 'upgrade web']);
  });

  it('CONNECT: refused 403 before the connect listener, admitted with req.meshkit', async () => {
    const before = reached.length;
    // Node's client treats any answer to CONNECT as the tunnel's: only the status is read here.
    const refused = await rawCall({ port: server.port, leaf: billing, ca: ca.cert, method: 'CONNECT', path: 'example.org:443' });
    assert.equal(refused.status, 403);
    const admitted = await rawCall({ port: server.port, leaf: web, ca: ca.cert, method: 'CONNECT', path: 'example.org:443' });
    assert.equal(admitted.status, 200);
    assert.equal(admitted.upgraded, true);
    assert.equal(admitted.header, 'web');
    assert.deepEqual(reached.slice(before), ['connect web']);
  });

  it('Expect: 100-continue: refused 403 before the checkContinue listener, admitted with req.meshkit', async () => {
    const before = reached.length;
    const headers = { expect: '100-continue', 'content-type': 'text/plain', 'content-length': '5' };
    const refused = await rawCall({ port: server.port, leaf: billing, ca: ca.cert, method: 'POST', headers, body: 'hello' });
    assert.equal(refused.status, 403);
    assert.deepEqual(JSON.parse(refused.body ?? ''), FORBIDDEN);
    const admitted = await rawCall({ port: server.port, leaf: web, ca: ca.cert, method: 'POST', headers, body: 'hello' });
    assert.equal(admitted.status, 200);
    assert.equal(admitted.header, 'web');
    assert.deepEqual(reached.slice(before), ['checkContinue web']);
  });

  it('without upgrade listeners an Upgrade request is an ordinary request: the app answers the admitted caller, 403 for the refused one', async () => {
    const admitted = await rawCall({ port: plain.port, leaf: web, ca: ca.cert, headers: UPGRADE });
    assert.equal(admitted.status, 200);
    assert.equal(admitted.body, 'app ran');
    const refused = await rawCall({ port: plain.port, leaf: billing, ca: ca.cert, headers: UPGRADE });
    assert.equal(refused.status, 403);
  });
});
