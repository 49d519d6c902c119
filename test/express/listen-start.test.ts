import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import { isMeshkitError, type Registrar } from '../../src/index.js';
import { listen } from '../../src/express/index.js';
import { ServerLifecycle } from '../../src/server/index.js';

async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

const hello = (_req: unknown, res: { end(body: string): void }): void => res.end('hi');

describe('express listen(): failed and cancelled starts', () => {
  it('close() while listen() is starting: listen rejects ERR_CLIENT_CLOSED and the server is not left running', async () => {
    const before = process.listenerCount('SIGTERM');
    const lifecycle = new ServerLifecycle({ drainTimeout: '1s', onShutdown: () => {} }); // default signals
    const starting = listen(hello, { lifecycle });
    await lifecycle.close();
    const error: unknown = await starting.then(() => undefined, (e: unknown) => e);
    assert.ok(isMeshkitError(error, 'ERR_CLIENT_CLOSED'), String(error));
    assert.equal(lifecycle.state, 'closed');
    assert.equal(process.listenerCount('SIGTERM'), before);
  });

  it('close() while listen() is starting: nothing answers on the port afterwards', async () => {
    const port = await freePort();
    const lifecycle = new ServerLifecycle({ signals: [], drainTimeout: '1s' });
    const starting = listen(hello, { port, lifecycle });
    const closing = lifecycle.close();
    await starting.catch(() => undefined);
    await closing;
    await new Promise((resolve) => setImmediate(resolve));
    const outcome = await new Promise<string>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => { socket.destroy(); resolve('connected'); });
      socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    assert.equal(outcome, 'ECONNREFUSED');
  });

  it('failed self-registration leaves readiness false', async () => {
    const lifecycle = new ServerLifecycle({ signals: [] });
    const registrar: Registrar = { kind: 'failing', async register() { throw Object.assign(new Error('registry down'), { code: 'ECONNREFUSED' }); } };
    await assert.rejects(listen(hello, { lifecycle, register: { registrar, instance: { service: 'svc' } } }), /registry down/);
    assert.equal(lifecycle.ready, false);
    assert.notEqual(lifecycle.state, 'ready');
    await lifecycle.close();
  });

  it('a port in use is ERR_INVALID_CONFIG naming listen.port, with the EADDRINUSE error as cause', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const port = (blocker.address() as net.AddressInfo).port;
      const lifecycle = new ServerLifecycle({ signals: [] });
      const error: unknown = await listen(hello, { port, lifecycle }).then(() => undefined, (e: unknown) => e);
      assert.ok(isMeshkitError(error, 'ERR_INVALID_CONFIG'), String(error));
      assert.equal(error.details.option, 'listen.port');
      assert.equal((error.cause as NodeJS.ErrnoException).code, 'EADDRINUSE');
      assert.equal(lifecycle.ready, false);
      await lifecycle.close();
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
