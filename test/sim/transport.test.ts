import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { client, roundRobin, type ClientBuilder } from '../../src/index.js';
import { isMeshkitError } from '../../src/core/errors.js';
import type { SimService } from '../../src/sim/simulation.js';
import { Simulation } from '../../src/sim/simulation.js';
import { closeInSim, every, fireAt } from '../helpers/sim.js';
import { trackUnhandledRejections } from '../helpers/unhandled.js';

function simClient(sim: Simulation, service: SimService): ClientBuilder {
  return client(service.name).discovery(service.resolver).transport(sim.transport).clock(sim.clock);
}

const ejectAfter3 = { consecutiveGatewayFailures: 3, maxEjectionPercent: 50, successRate: false } as const;

describe('simulated transport', () => {
  it('answers through a real client in virtual time, each backend seeing its share', async () => {
    const sim = new Simulation({ seed: 1 });
    const orders = sim.service('orders', { instances: 3, behaviour: { latency: 10 } });
    const caller = simClient(sim, orders).balancer(roundRobin()).build();
    const results = fireAt(sim, caller, every(5, 300));
    await sim.run(5_000);
    assert.equal(results.length, 300);
    for (const result of results) {
      assert.equal(result.status, 200);
      assert.equal(result.endedAt - result.startedAt, 10);
    }
    const arrivals = orders.backends.map((backend) => backend.totals().arrivals);
    assert.equal(arrivals.reduce((a, b) => a + b, 0), 300);
    for (const count of arrivals) assert.ok(count >= 60, `each backend gets a share: ${arrivals.join(', ')}`);
    await closeInSim(sim, caller);
  });

  it('fails about errorRate of the requests with errorStatus', async () => {
    const sim = new Simulation({ seed: 2 });
    const orders = sim.service('orders', { instances: 4, behaviour: { latency: 2, errorRate: 0.3, errorStatus: 502 } });
    const caller = simClient(sim, orders).retry(false).build();
    const results = fireAt(sim, caller, every(1, 4000));
    await sim.run(10_000);
    const failed = results.filter((result) => result.status === 502).length;
    assert.equal(results.filter((result) => result.status === 200).length + failed, 4000);
    assert.ok(Math.abs(failed / 4000 - 0.3) < 0.03, `error share ${failed / 4000}`);
    const backendFailed = orders.backends.reduce((sum, backend) => sum + backend.totals().failed, 0);
    assert.equal(backendFailed, failed);
    await closeInSim(sim, caller);
  });

  for (const [mode, behaviour, reason] of [
    ['refused', { refused: true }, 'connect'],
    ['reset', { resetRate: 1 }, 'reset'],
  ] as const) {
    it(`classifies a ${mode} connection as the upstream's, and outlier detection ejects the backend`, async () => {
      const sim = new Simulation({ seed: 3 });
      const orders = sim.service('orders', { instances: [{}, { behaviour }, {}, {}], behaviour: { latency: 5 } });
      const bad = orders.backend(1);
      const caller = simClient(sim, orders).balancer(roundRobin()).retry(false).outlierDetection(ejectAfter3).build();
      const reasons: string[] = [];
      const results = fireAt(sim, caller, every(10, 200));
      await sim.run(5_000);
      const failures = results.filter((result) => result.error !== undefined);
      assert.ok(failures.length >= 3, `failures: ${failures.length}`);
      for (const { error } of failures) {
        assert.ok(error !== undefined && isMeshkitError(error));
        assert.equal(error.blame, 'upstream');
        assert.equal(error.endpoint, bad.id);
        reasons.push(String((error.details as { reason?: unknown }).reason));
      }
      assert.ok(reasons.every((r) => r === reason), `reasons: ${reasons.join(', ')}`);
      assert.ok(!caller.endpoints().available.some((endpoint) => endpoint.id === bad.id), 'the failing backend is ejected');
      // Ejected after 3 failures in a row: later calls never reach it.
      assert.equal(failures.length, 3);
      await closeInSim(sim, caller);
    });
  }

  it('retries a failing backend elsewhere, and hedges around a slow one', async () => {
    const sim = new Simulation({ seed: 4 });
    const flaky = sim.service('flaky', { instances: [{ behaviour: { errorRate: 1 } }, {}, {}], behaviour: { latency: 3 } });
    const slow = sim.service('slow', { instances: [{ behaviour: { latency: 1000 } }, {}, {}], behaviour: { latency: 10 } });
    const retrying = simClient(sim, flaky).retry({ attempts: 3, budget: false }).build();
    const hedging = simClient(sim, slow).balancer(roundRobin()).hedge({ after: 20, budget: 1 }).build();
    const retried = fireAt(sim, retrying, every(10, 100));
    const hedged = fireAt(sim, hedging, every(10, 90));
    await sim.run(5_000);
    assert.equal(retried.length, 100);
    assert.ok(retried.every((result) => result.status === 200), 'every retried call succeeds');
    assert.ok(flaky.backend(0).totals().failed > 0);
    assert.equal(hedged.length, 90);
    for (const result of hedged) assert.ok(result.status === 200 && result.endedAt - result.startedAt <= 30, `hedged latency ${result.endedAt - result.startedAt}`);
    await closeInSim(sim, retrying, hedging);
  });

  it('opens a circuit breaker on a failing service', async () => {
    const sim = new Simulation({ seed: 5 });
    const down = sim.service('down', { instances: 2, behaviour: { latency: 1, errorRate: 1 } });
    const caller = simClient(sim, down).retry(false).circuitBreaker({ errorThreshold: 0.5, volumeThreshold: 10, resetTimeout: '10s' }).build();
    const results = fireAt(sim, caller, every(10, 100));
    await sim.run(2_000);
    const open = results.filter((result) => result.error?.code === 'ERR_CIRCUIT_OPEN').length;
    assert.ok(open > 50, `refused by the open breaker: ${open}`);
    const reached = down.backends.reduce((sum, backend) => sum + backend.totals().arrivals, 0);
    assert.equal(reached, 100 - open);
    await closeInSim(sim, caller);
  });

  it('ends a blackholed request with the per-try timeout, as the upstream\'s', async () => {
    const sim = new Simulation({ seed: 6 });
    const hole = sim.service('hole', { instances: 1, behaviour: { blackholeRate: 1 } });
    const caller = simClient(sim, hole).retry(false).timeout({ perTry: '50ms' }).build();
    const results = fireAt(sim, caller, [0, 100]);
    await sim.run(1_000);
    assert.equal(results.length, 2);
    for (const result of results) {
      assert.equal(result.error?.code, 'ERR_TIMEOUT');
      assert.equal(result.error?.blame, 'upstream');
      assert.equal(result.endedAt - result.startedAt, 50);
    }
    assert.deepEqual(hole.backend(0).totals(), { arrivals: 2, succeeded: 0, failed: 2 });
    await closeInSim(sim, caller);
  });

  it('ends a blackholed request with undici\'s headers timeout when nothing else bounds it', async () => {
    const sim = new Simulation({ seed: 6 });
    const hole = sim.service('hole', { instances: 1, behaviour: { blackholeRate: 1 } });
    const caller = simClient(sim, hole).retry(false).build();
    const results = fireAt(sim, caller, [0]);
    await sim.run(400_000);
    assert.equal(results[0]?.error?.code, 'ERR_UPSTREAM');
    assert.equal((results[0]?.error?.details as { reason?: unknown }).reason, 'timeout');
    assert.equal(results[0]?.endedAt, 300_000, "undici's default headers timeout");
    await closeInSim(sim, caller);
  });

  it('fails a stalled body at the body timeout as the upstream\'s (ejecting the backend), or at the client\'s deadline', async () => {
    const sim = new Simulation({ seed: 7 });
    const stalling = sim.service('stalling', { instances: [{ behaviour: { stallRate: 1 } }, {}, {}, {}], behaviour: { latency: 5 } });
    // Each stalled call gives its backend a success (the headers), then a failure (the body),
    // so consecutive failures never build up; the success rate shows it (50 % against 100 %).
    const bySuccessRate = { consecutiveGatewayFailures: 0, interval: '1s', maxEjectionPercent: 50, successRate: { minimumHosts: 3, requestVolume: 10, stdevFactor: 1 } } as const;
    const perTry = simClient(sim, stalling).balancer(roundRobin()).retry(false).timeout({ perTry: '100ms' }).outlierDetection(bySuccessRate).build();
    const results = fireAt(sim, perTry, every(20, 250));
    await sim.run(8_000);
    const stalled = results.filter((result) => result.error !== undefined);
    assert.ok(stalled.length >= 3, `stalled: ${stalled.length}`);
    for (const { error, status, startedAt, endedAt } of stalled) {
      assert.equal(status, 200, 'the headers came');
      assert.equal(error?.code, 'ERR_TIMEOUT');
      assert.equal((error?.details as { phase?: string }).phase, 'body');
      assert.equal(error?.blame, 'upstream');
      // The undici transport's body timeout for perTry 100 ms: perTry + 600 ms (see undici-timeouts.ts), from the headers.
      assert.equal(endedAt - startedAt, 5 + 700);
    }
    // Ejected once the success rate was reviewed: no stall started in the last seconds.
    assert.ok(stalled.every((result) => result.startedAt < 3_000), `stalls started at ${stalled.map((r) => r.startedAt).join(', ')}`);
    assert.ok(!perTry.endpoints().available.some((endpoint) => endpoint.id === stalling.backend(0).id), 'the stalling backend is ejected');

    const total = simClient(sim, stalling).balancer(roundRobin()).retry(false).timeout({ total: '300ms' }).build();
    const bounded = fireAt(sim, total, every(1, 4, sim.now()));
    await sim.run(sim.now() + 2_000);
    const cut = bounded.filter((result) => result.error !== undefined);
    assert.equal(cut.length, 1);
    assert.equal(cut[0]?.error?.code, 'ERR_DEADLINE_EXCEEDED');
    assert.equal(cut[0]!.endedAt - cut[0]!.startedAt, 300);
    await closeInSim(sim, perTry, total);
  });

  it('keeps the server busy with an abandoned request, unless cancelOnAbort', async () => {
    for (const cancelOnAbort of [false, true]) {
      const sim = new Simulation({ seed: 8 });
      const one = sim.service('one', { instances: 1, behaviour: { latency: 100, servers: 1, cancelOnAbort } });
      const impatient = simClient(sim, one).retry(false).timeout({ perTry: '20ms' }).build();
      const patient = simClient(sim, one).retry(false).build();
      const first = fireAt(sim, impatient, [0]);
      const second = fireAt(sim, patient, [30]);
      let queuedAt50 = -1;
      sim.at(50, () => {
        queuedAt50 = one.backend(0).queued;
      });
      await sim.run(1_000);
      assert.equal(first[0]?.error?.code, 'ERR_TIMEOUT');
      assert.equal(second[0]?.status, 200);
      const latency = second[0]!.endedAt - second[0]!.startedAt;
      if (cancelOnAbort) {
        assert.equal(queuedAt50, 0);
        assert.equal(latency, 100);
      } else {
        assert.equal(queuedAt50, 1);
        assert.equal(latency, 170, 'waits for the abandoned request to finish');
      }
      await closeInSim(sim, impatient, patient);
    }
  });

  it('answers 503 at once when the queue is full', async () => {
    const sim = new Simulation();
    const one = sim.service('one', { instances: 1, behaviour: { latency: 50, servers: 1, queue: 1 } });
    const caller = simClient(sim, one).retry(false).build();
    const results = fireAt(sim, caller, [0, 0, 0]);
    await sim.run(1_000);
    const sorted = [...results].sort((a, b) => a.endedAt - b.endedAt);
    assert.deepEqual(sorted.map((result) => [result.status, result.endedAt]), [[503, 0], [200, 50], [200, 100]]);
    assert.equal(one.backend(0).buckets()[0]?.maxInFlight, 2);
    await closeInSim(sim, caller);
  });

  it('raises latency with load when servers are limited (M/M/1)', async () => {
    const meanLatency = async (ratePerSecond: number): Promise<number> => {
      const sim = new Simulation({ seed: 9 });
      const one = sim.service('one', { instances: 1, behaviour: { latency: { exponential: { mean: 10 } }, servers: 1 } });
      const caller = simClient(sim, one).retry(false).build();
      const random = sim.loop.random('arrivals');
      const times: number[] = [];
      for (let t = 0, index = 0; index < 3000; index++) times.push((t += -Math.log(1 - random()) * (1000 / ratePerSecond)));
      const results = fireAt(sim, caller, times);
      await sim.run(times[times.length - 1]! + 60_000);
      assert.equal(results.length, 3000);
      await closeInSim(sim, caller);
      return results.reduce((sum, result) => sum + result.endedAt - result.startedAt, 0) / results.length;
    };
    const light = await meanLatency(30); // M/M/1 at 30 % load: W = 10 / 0.7 = 14 ms
    const heavy = await meanLatency(85); // at 85 %: W = 10 / 0.15 = 67 ms
    assert.ok(light > 10 && light < 25, `light load mean ${light}`);
    assert.ok(heavy > 2.5 * light, `heavy load mean ${heavy} vs light ${light}`);
  });

  it('hands a handler the deadline header, and a mid-tier\'s calls inherit what is left of it', async () => {
    const unhandled = trackUnhandledRejections();
    const sim = new Simulation({ seed: 10 });
    const seen: { header: string | undefined; deadline: number; at: number }[] = [];
    let downstreamError: unknown;
    const back = sim.service('back', {
      instances: 1,
      behaviour: {
        latency: 300,
        handler: async (request, context) => {
          seen.push({ header: request.headers['x-meshkit-deadline'], deadline: context.deadline, at: sim.now() });
          return { status: 200, body: 'from back' };
        },
      },
    });
    const backClient = simClient(sim, back).retry(false).build();
    const front = sim.service('front', {
      instances: 1,
      behaviour: {
        handler: async (_request, context) => {
          await new Promise<void>((resolve) => context.clock.setTimeout(resolve, 50));
          try {
            const response = await backClient.request({ path: '/inner' });
            return { status: 200, body: await response.body.text() };
          } catch (error) {
            downstreamError = error;
            return { status: 504 };
          }
        },
      },
    });
    const frontClient = simClient(sim, front).retry(false).timeout({ total: '200ms' }).build();
    const results = fireAt(sim, frontClient, [10]);
    await sim.run(1_000);
    assert.equal(results.length, 1);
    assert.equal(results[0]?.error?.code, 'ERR_DEADLINE_EXCEEDED');
    assert.equal(results[0]!.endedAt, 210);
    // front got 200 ms at t=10, waited 50: back is asked for the 150 left.
    assert.deepEqual(seen, [{ header: '150', deadline: 60 + 150, at: 60 }]);
    assert.ok(isMeshkitError(downstreamError, 'ERR_DEADLINE_EXCEEDED'), `downstream: ${String(downstreamError)}`);
    assert.equal(downstreamError.blame, 'caller', 'an inherited deadline is the caller\'s');
    unhandled.stop();
    assert.deepEqual(unhandled.reasons, []);
    await closeInSim(sim, frontClient, backClient);
  });

  it('answers a handler\'s status and JSON body, and 500 when it throws', async () => {
    const sim = new Simulation();
    const api = sim.service('api', {
      instances: 1,
      behaviour: { latency: 1, handler: async (request) => {
        if (request.path === '/boom') throw new Error('boom');
        return { status: 201, body: { path: request.path, method: request.method } };
      } },
    });
    const caller = simClient(sim, api).retry(false).build();
    const ok = fireAt(sim, caller, [0], { path: '/thing', method: 'PUT' });
    const boom = fireAt(sim, caller, [0], { path: '/boom' });
    await sim.run(100);
    assert.equal(ok[0]?.status, 201);
    assert.deepEqual(JSON.parse(ok[0]!.body!), { path: '/thing', method: 'PUT' });
    assert.equal(boom[0]?.status, 500);
    assert.deepEqual(api.backend(0).totals(), { arrivals: 2, succeeded: 1, failed: 1 });
    await closeInSim(sim, caller);
  });

  it('serves fetch() too', async () => {
    const sim = new Simulation();
    const api = sim.service('api', { instances: 1, behaviour: { latency: 1, handler: async () => ({ body: 'hello' }) } });
    const caller = simClient(sim, api).retry(false).build();
    let text: string | undefined;
    sim.at(0, () => {
      void caller.fetch('http://api/x').then((response) => response.text()).then((value) => {
        text = value;
      });
    });
    await sim.run(100);
    assert.equal(text, 'hello');
    await closeInSim(sim, caller);
  });
});
