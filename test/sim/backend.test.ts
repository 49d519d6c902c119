import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { client, roundRobin } from '../../src/index.js';
import { Simulation, type SimService } from '../../src/sim/simulation.js';
import { closeInSim, every, fireAt } from '../helpers/sim.js';
import { trackUnhandledRejections } from '../helpers/unhandled.js';

function caller(sim: Simulation, service: SimService) {
  return client(service.name).discovery(service.resolver).transport(sim.transport).clock(sim.clock).balancer(roundRobin()).retry(false).build();
}

describe('SimBackend', () => {
  it('starts queued requests at once when set() adds servers; requests in service keep their draw', async () => {
    const sim = new Simulation();
    const svc = sim.service('svc', { instances: 1, behaviour: { latency: 100, servers: 1 } });
    const c = caller(sim, svc);
    const results = fireAt(sim, c, [0, 0, 0]);
    sim.at(10, () => svc.backend(0).set({ servers: 3, latency: 20 }));
    await sim.run(1_000);
    assert.deepEqual(results.map((r) => r.endedAt).sort((a, b) => a - b), [30, 30, 100]);
    await closeInSim(sim, c);
  });

  it('counts per bucket: arrivals, outcomes where they happen, the most in flight', async () => {
    const sim = new Simulation({ bucketMs: 100 });
    const svc = sim.service('svc', { instances: 1, behaviour: { latency: 150, servers: 2 } });
    const c = caller(sim, svc);
    fireAt(sim, c, [0, 10, 20, 250]);
    await sim.run(1_000);
    assert.deepEqual(svc.backend(0).buckets(), [
      { start: 0, arrivals: 3, succeeded: 0, failed: 0, maxInFlight: 3 },
      { start: 100, arrivals: 0, succeeded: 2, failed: 0, maxInFlight: 3 },
      { start: 200, arrivals: 1, succeeded: 0, failed: 0, maxInFlight: 2 },
      { start: 300, arrivals: 0, succeeded: 1, failed: 0, maxInFlight: 2 },
      { start: 400, arrivals: 0, succeeded: 1, failed: 0, maxInFlight: 1 },
    ]);
    assert.equal(svc.backend(0).inFlight, 0);
    await closeInSim(sim, c);
  });

  it('answers 504 without running the handler when the deadline is spent in its queue', async () => {
    const sim = new Simulation();
    let ran = 0;
    const svc = sim.service('svc', { instances: 1, behaviour: { latency: 100, servers: 1, handler: async () => {
      ran++;
      return {};
    } } });
    const c = client('svc').discovery(svc.resolver).transport(sim.transport).clock(sim.clock).retry(false).build();
    // The second waits 100 ms in the queue with 50 ms to live: the server sees a spent deadline.
    fireAt(sim, c, [0]);
    fireAt(sim, c, [0], { timeout: 50 });
    await sim.run(1_000);
    assert.equal(ran, 1);
    assert.deepEqual(svc.backend(0).totals(), { arrivals: 2, succeeded: 1, failed: 1 });
    await closeInSim(sim, c);
  });

  it('fails a stalled body being read with undici\'s reset when the backend goes down', async () => {
    const sim = new Simulation();
    const svc = sim.service('svc', { instances: 1, behaviour: { latency: 5, stallRate: 1 }, timeline: [{ at: 50, down: true }] });
    const c = caller(sim, svc);
    const results = fireAt(sim, c, [0]);
    await sim.run(1_000);
    assert.equal(results[0]?.status, 200);
    assert.equal(results[0]?.endedAt, 50);
    // As a real body: the reader gets undici's error (meshkit converts only the body timeout).
    assert.equal(results[0]?.foreign?.code, 'UND_ERR_SOCKET');
    assert.equal(svc.backend(0).isUp, false);
    await closeInSim(sim, c);
  });

  it('removes a queued request whose caller left when it cancels on abort', async () => {
    const sim = new Simulation();
    const svc = sim.service('svc', { instances: 1, behaviour: { latency: 100, servers: 1, cancelOnAbort: true } });
    const c = caller(sim, svc);
    fireAt(sim, c, [0]);
    const left = fireAt(sim, c, [0], { timeout: 30 });
    const queued: number[] = [];
    for (const t of [10, 40]) sim.at(t, () => queued.push(svc.backend(0).queued));
    await sim.run(1_000);
    assert.equal(left[0]?.error?.code, 'ERR_DEADLINE_EXCEEDED');
    assert.deepEqual(queued, [1, 0]);
    assert.deepEqual(svc.backend(0).totals(), { arrivals: 2, succeeded: 1, failed: 0 });
    await closeInSim(sim, c);
  });

  it('settles every call and holds nothing once done, under every failure mode at once', async () => {
    const unhandled = trackUnhandledRejections();
    const sim = new Simulation({ seed: 11 });
    const svc = sim.service('svc', {
      instances: [{ behaviour: { cancelOnAbort: true } }, {}, {}, {}],
      behaviour: { latency: { lognormal: { median: 5, p99: 120 } }, servers: 2, queue: 5, errorRate: 0.05, resetRate: 0.03, stallRate: 0.03, blackholeRate: 0.03 },
      timeline: [{ at: 700, backends: [1], down: true }, { at: 1200, backends: [1], up: true }],
    });
    const c = client('svc').discovery(svc.resolver).transport(sim.transport).clock(sim.clock)
      .timeout({ perTry: '50ms', total: '400ms' }).retry({ attempts: 3 }).hedge({ after: 20 }).outlierDetection({}).build();
    const results = fireAt(sim, c, every(2, 1000));
    await sim.run(5_000);
    assert.equal(results.length, 1000);
    for (const result of results) assert.ok(result.status !== undefined || result.error !== undefined || result.foreign !== undefined);
    for (const backend of svc.backends) assert.equal(backend.inFlight, 0, `${backend.id} holds nothing`);
    await closeInSim(sim, c);
    unhandled.stop();
    assert.deepEqual(unhandled.reasons, []);
  });
});
