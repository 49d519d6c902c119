import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isMeshkitError, register, type HealthCheck, type Registrar, type ServiceInstance } from '../../src/index.js';
import { trackUnhandledRejections } from '../helpers/unhandled.js';

/** A registrar that records what happens to it; register() is tested for its own logic (signals, order). */
function recordingRegistrar(log: string[]): Registrar {
  return {
    kind: 'recording',
    async register(instance: ServiceInstance, check?: HealthCheck) {
      log.push(`register ${instance.service} ${check === undefined ? 'default' : 'custom'}`);
      return { id: 'i-1', instance, deregister: async () => { log.push('deregister'); } };
    },
  };
}

const instance: ServiceInstance = { service: 'orders', address: '127.0.0.1', port: 8080 };

describe('register', () => {
  it('deregisters first on a signal, then runs onShutdown', async () => {
    const log: string[] = [];
    // SIGWINCH: ignored by default, and unlike SIGUSR2 not used by Node 24's test runner (diagnostic reports).
    const listenersBefore = process.listenerCount('SIGWINCH');
    // Signal listeners do not keep the event loop alive; this does until the signal arrives.
    const keepAlive = setTimeout(() => {}, 5000);
    const shutdown = new Promise<NodeJS.Signals>((resolve) => {
      void register(recordingRegistrar(log), instance, {
        signals: ['SIGWINCH'],
        onShutdown: (signal) => {
          log.push(`shutdown ${signal}`);
          resolve(signal);
        },
      }).then(() => process.kill(process.pid, 'SIGWINCH'));
    });
    assert.equal(await shutdown, 'SIGWINCH');
    clearTimeout(keepAlive);
    assert.deepEqual(log, ['register orders default', 'deregister', 'shutdown SIGWINCH']);
    assert.equal(process.listenerCount('SIGWINCH'), listenersBefore, 'meshkit removed its handler');
  });

  it('an onShutdown that rejects is reported as a warning, not an unhandled rejection, and the signal is raised again', async (t) => {
    const unhandled = trackUnhandledRejections();
    t.after(() => unhandled.stop());
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning);
    };
    process.on('warning', onWarning);
    t.after(() => process.off('warning', onWarning));
    // Our own listener sees the signal meshkit handles and the one it raises again afterwards.
    let delivered = 0;
    const onWinch = (): void => {
      delivered++;
    };
    process.on('SIGWINCH', onWinch);
    t.after(() => process.off('SIGWINCH', onWinch));
    await register(recordingRegistrar([]), instance, {
      signals: ['SIGWINCH'],
      onShutdown: async () => {
        throw new Error('server.close: Server is not running');
      },
    });
    process.kill(process.pid, 'SIGWINCH');
    for (let i = 0; i < 100 && (delivered < 2 || warnings.length === 0); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(unhandled.reasons, []);
    const warning = warnings.find((w) => (w as Error & { code?: string }).code === 'MESHKIT_SHUTDOWN_ERROR');
    assert.ok(warning !== undefined, 'reported as a MESHKIT_SHUTDOWN_ERROR warning');
    assert.match(warning.message, /onShutdown\(SIGWINCH\) failed: Error: server\.close: Server is not running/);
    assert.equal(delivered, 2, 'the signal was raised again once onShutdown failed');
  });

  it('removes its signal handlers when deregistered by hand', async () => {
    const log: string[] = [];
    const before = process.listenerCount('SIGWINCH');
    const registration = await register(recordingRegistrar(log), instance, { signals: ['SIGWINCH'], check: { ttl: '5s' } });
    assert.equal(process.listenerCount('SIGWINCH'), before + 1);
    await registration.deregister();
    assert.equal(process.listenerCount('SIGWINCH'), before);
    assert.deepEqual(log, ['register orders custom', 'deregister']);
  });

  it('rejects a missing registrar with ERR_INVALID_CONFIG', async () => {
    await assert.rejects(register({} as Registrar, instance), (e: unknown) => isMeshkitError(e, 'ERR_INVALID_CONFIG'));
  });
});
