import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import express from 'express';
import { isMeshkitError, type HealthCheck, type Registrar, type ServiceInstance } from '../../src/index.js';
import { health, inbound, listen } from '../../src/express/index.js';
import { ServerLifecycle } from '../../src/server/index.js';
import { VirtualClock } from '../../src/testing/index.js';
import { call, sendAndHangUp, sleep } from './http-call.js';

/** A registrar that records calls; the real Consul path is in sigterm-consul.test.ts. */
function recordingRegistrar(log: string[], options: { failDeregister?: boolean; hangDeregister?: boolean } = {}): Registrar {
  return {
    kind: 'recording',
    async register(instance: ServiceInstance, check?: HealthCheck) {
      log.push(`register ${instance.service} ${instance.address}:${instance.port} ${check === undefined ? 'default' : 'custom'}`);
      return {
        id: 'i-1', instance,
        deregister: async () => {
          log.push('deregister');
          if (options.hangDeregister === true) await new Promise(() => {});
          if (options.failDeregister === true) throw new Error('registry down');
        },
      };
    },
  };
}

function app(lifecycle: ServerLifecycle, gate?: { started: boolean; finish: () => void }): express.Express {
  const a = express();
  a.use(health(lifecycle));
  a.use(inbound());
  a.get('/work', (_req, res) => res.send('done'));
  a.get('/slow', (_req, res) => {
    if (gate !== undefined) {
      gate.started = true;
      gate.finish = () => res.send('slow done');
    }
  });
  return a;
}

describe('ServerLifecycle with listen() (Express, real HTTP)', () => {
  it('readiness flips false while draining; it deregisters, keeps serving for the propagation delay, stops accepting, drains, then closes clients', async () => {
    const log: string[] = [];
    const lifecycle = new ServerLifecycle({ signals: [], propagationDelay: '300ms', clients: [{ close: () => void log.push('client closed') }] });
    lifecycle.subscribe((event) => log.push(event.type));
    const gate = { started: false, finish: () => {} };
    const served = await listen(app(lifecycle, gate), { lifecycle, register: { registrar: recordingRegistrar(log), instance: { service: 'orders' }, check: { ttl: '5s' } } });
    assert.equal(served.registration?.instance.port, served.port);
    const base = `http://${served.address}`;
    assert.equal((await call(`${base}/health/ready`)).status, 200);

    const slow = call(`${base}/slow`);
    while (!gate.started) await sleep(5);
    const closing = served.close();
    assert.equal(served.close(), closing, 'close() is idempotent');
    await sleep(100); // within the propagation delay: deregistered, still serving
    const ready = await call(`${base}/health/ready`);
    assert.equal(ready.status, 503);
    assert.equal((JSON.parse(ready.body) as { state: string }).state, 'draining');
    assert.equal((await call(`${base}/health/live`)).status, 200);
    const work = await call(`${base}/work`);
    assert.equal(work.body, 'done', 'still serving while callers learn the change');
    assert.equal(work.headers['connection'], 'close');
    await sleep(400); // past the delay: no longer accepting, the slow request still in flight
    await assert.rejects(call(`${base}/work`), /ECONNREFUSED/);
    assert.equal(lifecycle.inFlight, 1);
    assert.ok(!log.includes('client closed'), 'clients stay open while a request is in flight');
    gate.finish();
    assert.equal((await slow).body, 'slow done');
    await closing;
    assert.deepEqual(log, [
      'ready', 'register orders 127.0.0.1:' + served.port + ' custom', 'draining', 'deregister', 'deregistered',
      'stopped-accepting', 'drained', 'client closed', 'closed',
    ]);
    assert.equal(lifecycle.live, false);
  });

  it('a request whose caller hung up counts until its handler ends it, or drainTimeout after the hang-up when it never does', async () => {
    const clock = new VirtualClock();
    const lifecycle = new ServerLifecycle({ signals: [], drainTimeout: '5s', clock });
    const held: express.Response[] = [];
    const a = express();
    a.get('/hold', (_req, res) => void held.push(res));
    const served = await listen(a, { lifecycle });
    try {
      const ended = await sendAndHangUp(`http://${served.address}/hold`, held);
      await sendAndHangUp(`http://${served.address}/hold`, held); // its handler never ends the response
      assert.equal(lifecycle.inFlight, 2, 'both handlers still run');
      ended.send('done, nobody listening');
      assert.equal(lifecycle.inFlight, 1, 'counted until its handler ended the response');
      await clock.advance(4999);
      assert.equal(lifecycle.inFlight, 1);
      await clock.advance(1);
      assert.equal(lifecycle.inFlight, 0, 'not counted for ever');
    } finally {
      const closing = served.close();
      await clock.advance(10_000);
      await closing;
    }
  });

  it('cuts off requests still running at drainTimeout, and survives a registry that fails or hangs', async () => {
    for (const failure of [{ failDeregister: true }, { hangDeregister: true }]) {
      const log: string[] = [];
      const events: unknown[] = [];
      const lifecycle = new ServerLifecycle({ signals: [], propagationDelay: 0, drainTimeout: '200ms', deregisterTimeout: '100ms' });
      lifecycle.subscribe((event) => events.push(event));
      const gate = { started: false, finish: () => {} };
      const served = await listen(app(lifecycle, gate), { lifecycle, register: { registrar: recordingRegistrar(log, failure), instance: { service: 'orders' } } });
      const slow = call(`http://${served.address}/slow`);
      while (!gate.started) await sleep(5);
      const started = performance.now();
      await served.close();
      assert.ok(performance.now() - started < 2000);
      await assert.rejects(slow, /socket hang up|ECONNRESET/);
      const deregistered = events.find((e) => (e as { type: string }).type === 'deregistered') as { error?: Error };
      assert.ok(deregistered.error instanceof Error, 'the registry failure is reported, not thrown');
      assert.deepEqual(events.find((e) => (e as { type: string }).type === 'drained'), { type: 'drained', abandoned: 1 });
    }
  });

  it('runs its drain bound on the clock it was given', async () => {
    const clock = new VirtualClock();
    const events: string[] = [];
    const lifecycle = new ServerLifecycle({ signals: [], propagationDelay: 0, drainTimeout: '10s', clock });
    lifecycle.subscribe((event) => events.push(event.type));
    const gate = { started: false, finish: () => {} };
    const served = await listen(app(lifecycle, gate), { lifecycle });
    const slow = call(`http://${served.address}/slow`).then(() => 'answered', (error: unknown) => String(error));
    while (!gate.started) await sleep(5);
    const closing = served.close();
    await sleep(100);
    await clock.advance(9_000);
    await sleep(50);
    assert.ok(!events.includes('drained'), `still draining after 9 virtual seconds: ${events.join(', ')}`);
    await clock.advance(1_000);
    await closing;
    assert.match(await slow, /socket hang up|ECONNRESET/);
    assert.ok(events.includes('drained'));
    assert.throws(() => new ServerLifecycle({ clock: {} as never }), (e) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && /lifecycle\.clock/.test(e.message));
  });

  it('on a signal: runs the sequence, then onShutdown; close() removes the handlers', async () => {
    // SIGWINCH: ignored by default and unused by the test runner.
    const before = process.listenerCount('SIGWINCH');
    const log: string[] = [];
    const keepAlive = setTimeout(() => {}, 5000);
    const shutdown = new Promise<NodeJS.Signals>((resolve) => {
      const lifecycle = new ServerLifecycle({ signals: ['SIGWINCH'], propagationDelay: 0, onShutdown: (signal) => resolve(signal) });
      lifecycle.subscribe((event) => log.push(event.type));
      void listen(app(lifecycle), { lifecycle, register: { registrar: recordingRegistrar(log), instance: { service: 'orders' } } }).then(() => {
        assert.equal(process.listenerCount('SIGWINCH'), before + 1);
        process.kill(process.pid, 'SIGWINCH');
      });
    });
    assert.equal(await shutdown, 'SIGWINCH');
    clearTimeout(keepAlive);
    assert.deepEqual(log.filter((l) => !l.startsWith('register')), ['ready', 'draining', 'deregister', 'deregistered', 'stopped-accepting', 'drained', 'closed']);
    assert.equal(process.listenerCount('SIGWINCH'), before);

    const lifecycle = new ServerLifecycle({ signals: ['SIGWINCH'] });
    lifecycle.installSignalHandlers();
    assert.equal(process.listenerCount('SIGWINCH'), before + 1);
    await lifecycle.close();
    assert.equal(process.listenerCount('SIGWINCH'), before);
  });

  it('listen() refuses a wildcard host without an address to register, and failed registration closes the server', async () => {
    const lifecycle = new ServerLifecycle({ signals: [] });
    await assert.rejects(listen(app(lifecycle), { host: '0.0.0.0', register: { registrar: recordingRegistrar([]), instance: { service: 'x' } } }),
      (e) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && /register\.instance\.address/.test(e.message));
    const failing: Registrar = { kind: 'failing', register: async () => { throw new Error('no registry'); } };
    await assert.rejects(listen(app(lifecycle), { lifecycle, register: { registrar: failing, instance: { service: 'x' } } }), /no registry/);
    await assert.rejects(listen(app(lifecycle), { port: 70000 }), (e) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === 'listen.port');
    for (const [options, option] of [
      [{ drainTimeout: 'long' }, 'lifecycle.drainTimeout'], [{ clients: [{}] }, 'lifecycle.clients[0]'],
      [{ signals: 'SIGTERM' }, 'lifecycle.signals'], [{ grace: 1 }, 'lifecycle.grace'], [{ onShutdown: 1 }, 'lifecycle.onShutdown'],
      // Every shutdown bound reaches a timer: past Node's limit (2^31 - 1 ms) it would fire at once, so it is refused.
      [{ drainTimeout: '1000h' }, 'lifecycle.drainTimeout'], [{ propagationDelay: 2 ** 31 }, 'lifecycle.propagationDelay'],
      [{ deregisterTimeout: Infinity }, 'lifecycle.deregisterTimeout'], [null, 'lifecycle'],
    ] as const) {
      assert.throws(() => new ServerLifecycle(options as never), (e) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === option, option);
    }
    assert.throws(() => health(lifecycle, { liveness: 'live' }), (e) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && /health\.liveness/.test(e.message));
    assert.throws(() => health(lifecycle, { readyness: '/ready' } as never),
      (e) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && /health\.readyness.*did you mean `readiness`/.test(e.message));
    assert.throws(() => new ServerLifecycle({ drainTimout: '5s' } as never), (e) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && /did you mean `drainTimeout`/.test(e.message));
    assert.equal(new ServerLifecycle({ drainTimeout: 2 ** 31 - 1, signals: [] }).settings.drainTimeoutMs, 2 ** 31 - 1, 'up to the limit is fine');
    await assert.rejects(listen(app(lifecycle), { prot: 8080 } as never), (e) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === 'listen.prot' && /did you mean `port`/.test(e.message));
    await assert.rejects(listen(app(lifecycle), { host: 5 } as never), (e) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === 'listen.host');
    await assert.rejects(listen(app(lifecycle), { register: { registrar: recordingRegistrar([]), instance: { service: 'x' }, chek: {} } as never }),
      (e) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === 'register.chek');
  });
});
