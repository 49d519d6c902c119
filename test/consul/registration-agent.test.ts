import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { consul } from '../../src/consul/index.js';
import { isMeshkitError, register } from '../../src/index.js';
import { settleTimerHooks, trackMeshkitTimers } from '../helpers/timers.js';
import { trackUnhandledRejections } from '../helpers/unhandled.js';
import { startFakeAgent } from './fake-agent.js';
import { within } from './support.js';

const instance = { service: 'orders', id: 'orders-1', address: '127.0.0.1', port: 8080 };
const PASS = '/v1/agent/check/pass/';
const REGISTER = '/v1/agent/service/register';
const DEREGISTER = '/v1/agent/service/deregister/';

/** How `promise` settled within `ms` (real time), without waiting past that for one that hangs. */
async function settleWithin<T>(promise: Promise<T>, ms: number): Promise<{ state: 'resolved' | 'rejected' | 'pending'; error?: unknown; tookMs: number }> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    promise.then(() => ({ state: 'resolved' as const }), (error: unknown) => ({ state: 'rejected' as const, error })),
    new Promise<{ state: 'pending' }>((resolve) => {
      timer = setTimeout(() => resolve({ state: 'pending' }), ms);
    }),
  ]);
  clearTimeout(timer);
  return { ...outcome, tookMs: performance.now() - started };
}

describe('consul registration against an agent that hangs or fails', () => {
  it('a keep-alive the agent never answers is given up after requestTimeout, and the keep-alives go on', async (t) => {
    const agent = await startFakeAgent();
    t.after(() => agent.close());
    // The second keep-alive is lost (a hung moment); the agent answers everything else.
    agent.answer = (r) => (r.path.startsWith(PASS) && agent.count(PASS) === 2 ? 'hang' : 200);
    const registration = await consul({ service: 'orders', address: agent.address, env: {}, requestTimeout: '300ms' })
      .register(instance, { ttl: '1s' });
    // Every ttl/3 = 333 ms, plus 300 ms for the lost one: 6 keep-alives take about 2.3 s.
    await within(4000, 'keep-alives past the lost one', () => agent.count(PASS) >= 6);
    // Bounded, and not in a finally: a keep-alive stuck forever would hold deregister() up too.
    const deregistered = await settleWithin(registration.deregister(), 3000);
    assert.equal(deregistered.state, 'resolved');
  });

  it('register() rejects after requestTimeout when the agent does not answer, and leaves no timer behind', async (t) => {
    const agent = await startFakeAgent(() => 'hang');
    t.after(() => agent.close());
    const timers = trackMeshkitTimers();
    t.after(() => timers.stop());
    const provider = consul({ service: 'orders', address: agent.address, env: {}, requestTimeout: '300ms' });
    const outcome = await settleWithin(provider.register(instance, { ttl: '10s' }), 3000);
    assert.equal(outcome.state, 'rejected', `register() is ${outcome.state} after ${outcome.tookMs.toFixed(0)} ms`);
    assert.match(String(outcome.error), /did not answer PUT \/v1\/agent\/service\/register within 300 ms/);
    assert.ok(outcome.tookMs >= 250, `not before the deadline (${outcome.tookMs.toFixed(0)} ms)`);
    await settleTimerHooks();
    assert.equal(timers.live, 0, 'no meshkit timer left');
  });

  it('deregister() aborts a keep-alive the agent is not answering instead of waiting for it', async (t) => {
    const agent = await startFakeAgent();
    t.after(() => agent.close());
    agent.answer = (r) => (r.path.startsWith(PASS) ? 'hang' : 200);
    // A long deadline: only aborting the stuck keep-alive makes deregister() quick.
    const registration = await consul({ service: 'orders', address: agent.address, env: {}, requestTimeout: '10s' })
      .register(instance, { ttl: '1s' });
    await within(2000, 'a keep-alive in flight', () => agent.count(PASS) === 1);
    const outcome = await settleWithin(registration.deregister(), 3000);
    assert.equal(outcome.state, 'resolved', `deregister() is ${outcome.state} after ${outcome.tookMs.toFixed(0)} ms`);
    assert.ok(outcome.tookMs < 1000, `took ${outcome.tookMs.toFixed(0)} ms`);
    assert.equal(agent.count(DEREGISTER), 1);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(agent.count(PASS), 1, 'no keep-alive after deregister()');
  });

  it('on a signal with a hung agent, deregistering gives up after requestTimeout and onShutdown runs', async (t) => {
    const agent = await startFakeAgent();
    t.after(() => agent.close());
    const unhandled = trackUnhandledRejections();
    t.after(() => unhandled.stop());
    let shutdown: (signal: NodeJS.Signals) => void = () => {};
    const ran = new Promise<NodeJS.Signals>((resolve) => {
      shutdown = resolve;
    });
    // SIGWINCH: ignored by default, and unused by the test runner.
    const registration = await register(consul({ service: 'orders', address: agent.address, env: {}, requestTimeout: '300ms' }), instance, {
      check: { ttl: '10s' }, signals: ['SIGWINCH'], onShutdown: (signal) => shutdown(signal),
    });
    agent.answer = () => 'hang';
    process.kill(process.pid, 'SIGWINCH');
    const outcome = await settleWithin(ran, 3000);
    assert.equal(outcome.state, 'resolved', 'onShutdown ran');
    assert.equal(agent.count(DEREGISTER), 1, 'it tried to deregister first');
    assert.deepEqual(unhandled.reasons, []);
    // Already given up on by the signal handler; a later call asks the agent again.
    agent.answer = () => 200;
    await registration.deregister();
    assert.equal(agent.count(DEREGISTER), 2);
  });

  it('a failed deregister() is not remembered: calling it again asks the agent again', async (t) => {
    const agent = await startFakeAgent();
    t.after(() => agent.close());
    const registration = await consul({ service: 'orders', address: agent.address, env: {} }).register(instance, { http: '/health' });
    agent.answer = (r) => (r.path.startsWith(DEREGISTER) && agent.count(DEREGISTER) === 1 ? 500 : 200);
    await assert.rejects(registration.deregister(), /fake agent failure/);
    await registration.deregister();
    await registration.deregister();
    assert.equal(agent.count(DEREGISTER), 2, 'retried once, then done');
  });

  it('an HTTP-check registration is put back when the agent no longer has it', async (t) => {
    const agent = await startFakeAgent();
    t.after(() => agent.close());
    let known = true;
    agent.answer = (r) => {
      if (r.path === REGISTER) known = true;
      return r.method === 'GET' && r.path === '/v1/agent/service/orders-1' && !known ? 404 : 200;
    };
    const registration = await consul({ service: 'orders', address: agent.address, env: {} })
      .register(instance, { http: '/health', interval: '1s' });
    try {
      await within(2500, 'a first re-check', () => agent.requests.some((r) => r.method === 'GET'));
      assert.equal(agent.count(REGISTER), 1, 'a service the agent has is left alone');
      known = false; // the agent restarted and lost its state
      await within(2500, 'registered again', () => agent.count(REGISTER) === 2);
    } finally {
      await registration.deregister();
    }
  });

  it('refuses a TTL under 1 s before touching the agent (a bare number is milliseconds)', async (t) => {
    const agent = await startFakeAgent();
    t.after(() => agent.close());
    const provider = consul({ service: 'orders', address: agent.address, env: {} });
    for (const ttl of ['1ms', 10, '999ms', 0.5]) {
      await assert.rejects(provider.register(instance, { ttl }),
        (e: unknown) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === 'check.ttl' && /at least 1s/.test(e.message), `ttl ${ttl}`);
    }
    assert.deepEqual(agent.requests, []);
    const registration = await provider.register(instance, { ttl: '1s' });
    await registration.deregister();
  });
});
