import assert from 'node:assert/strict';
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { describe, it } from 'node:test';
import { listen } from '../../src/express/index.js';
import { ServerLifecycle } from '../../src/server/index.js';

/** Opens an upgraded connection the server keeps open (as a WebSocket would); resolves with the client's socket. */
function upgrade(server: http.Server, port: number): Promise<Duplex> {
  server.on('upgrade', (_req, socket: Duplex) => {
    socket.on('error', () => {});
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n');
  });
  return new Promise((resolve, reject) => {
    http.request({ host: '127.0.0.1', port, agent: false, headers: { connection: 'upgrade', upgrade: 'test' } })
      .on('upgrade', (_res, socket) => resolve(socket))
      .on('error', reject)
      .end();
  });
}

describe('drain with upgraded connections', () => {
  it('destroys an upgraded connection at drainTimeout and close() ends', async () => {
    const lifecycle = new ServerLifecycle({ signals: [], drainTimeout: '200ms', propagationDelay: 0 });
    const s = await listen((_req, res) => res.end('x'), { lifecycle });
    const client = await upgrade(s.server, s.port);
    const clientClosed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.on('error', () => {});
    const events: string[] = [];
    lifecycle.subscribe((e) => events.push(e.type));
    const started = performance.now();
    let hung: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      s.close().then(() => 'closed'),
      new Promise<string>((resolve) => { hung = setTimeout(() => resolve('still draining'), 3000); }),
    ]);
    clearTimeout(hung);
    if (outcome !== 'closed') client.destroy();
    assert.equal(outcome, 'closed');
    const ms = performance.now() - started;
    // The upgraded connection got drainTimeout to finish, then was cut off.
    assert.ok(ms >= 150 && ms < 2000, `close() took ${ms} ms`);
    await clientClosed;
    assert.deepEqual(events, ['draining', 'stopped-accepting', 'drained', 'closed']);
    assert.equal(s.server.listening, false);
  });

  it('a SIGTERM drain ends too and runs onShutdown', async () => {
    let shutdown: (signal: string) => void = () => {};
    const ran = new Promise<string>((resolve) => { shutdown = resolve; });
    const lifecycle = new ServerLifecycle({ signals: ['SIGUSR2'], drainTimeout: '200ms', propagationDelay: 0, onShutdown: (signal) => shutdown(signal) });
    const s = await listen((_req, res) => res.end('x'), { lifecycle });
    const client = await upgrade(s.server, s.port);
    client.on('error', () => {});
    process.kill(process.pid, 'SIGUSR2');
    let hung: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([ran, new Promise<string>((resolve) => { hung = setTimeout(() => resolve('still draining'), 3000); })]);
    clearTimeout(hung);
    if (outcome !== 'SIGUSR2') client.destroy();
    assert.equal(outcome, 'SIGUSR2');
    assert.equal(lifecycle.state, 'closed');
  });
});
