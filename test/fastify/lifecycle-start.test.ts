import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import { meshkit } from '../../src/fastify/index.js';

describe('fastify plugin: failed and cancelled starts', () => {
  it('a failed listen (port in use) leaves readiness false', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const app = Fastify();
    try {
      await app.register(meshkit, { lifecycle: { signals: [] } });
      const port = (blocker.address() as net.AddressInfo).port;
      await assert.rejects(app.listen({ port, host: '127.0.0.1' }), { code: 'EADDRINUSE' });
      assert.equal(app.meshkit.lifecycle.ready, false);
      assert.equal(app.meshkit.lifecycle.state, 'starting');
    } finally {
      await app.close();
      await new Promise((resolve) => blocker.close(resolve));
    }
    assert.equal(app.meshkit.lifecycle.state, 'closed');
  });

  it('close() while listen() is starting: the server is not left listening', async () => {
    const app = Fastify();
    await app.register(meshkit, { lifecycle: { signals: [] } });
    const listening = app.listen({ port: 0, host: '127.0.0.1' }).then(() => 'listened', (e: { code?: string }) => `rejected ${String(e.code)}`);
    await app.close();
    await listening;
    await new Promise((resolve) => setImmediate(resolve));
    const leftOpen = app.server.listening;
    if (leftOpen) app.server.close();
    assert.equal(leftOpen, false);
    assert.equal(app.meshkit.lifecycle.state, 'closed');
    assert.equal(app.meshkit.lifecycle.ready, false);
  });
});
