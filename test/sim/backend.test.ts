import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { client, roundRobin } from '../../src/index.js';
import { Simulation, type SimService } from '../../src/sim/simulation.js';
import { closeInSim, fireAt } from '../helpers/sim.js';

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
});
