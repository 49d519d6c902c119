import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { client, roundRobin } from '../../src/index.js';
import { isMeshkitError } from '../../src/core/errors.js';
import { Simulation, simAddress } from '../../src/sim/simulation.js';
import { closeInSim, every, fireAt } from '../helpers/sim.js';

/** A small fleet with every random choice in play: latency draws, error draws, balancer picks, retry jitter. */
async function run(seed: number, extraService = false, withIds = true): Promise<string> {
  const sim = new Simulation({ seed, bucketMs: 500 });
  if (extraService) sim.service('other', { instances: 5, behaviour: { latency: { uniform: { min: 1, max: 9 } } } });
  const orders = sim.service('orders', {
    instances: 6,
    zones: ['a', 'b'],
    behaviour: { latency: { lognormal: { median: 10, p99: 80 } }, errorRate: 0.05, servers: 4 },
    timeline: [{ at: 1000, backends: [0], set: { latency: 200 } }, { at: 2000, backends: [1], down: true }, { at: 2500, backends: [1], up: true }],
  });
  const caller = client('orders').discovery(orders.resolver).transport(sim.transport).clock(sim.clock)
    .timeout({ perTry: '100ms', total: '1s' }).retry({ attempts: 3 }).build();
  const random = sim.loop.random('arrivals');
  const times: number[] = [];
  for (let t = 0; t < 3000;) times.push((t += -Math.log(1 - random()) * 2));
  fireAt(sim, caller, times);
  await sim.run(5_000);
  await closeInSim(sim, caller);
  return JSON.stringify(orders.backends.map((backend) => ({ id: withIds ? backend.id : backend.index, zone: backend.zone, buckets: backend.buckets() })));
}

describe('Simulation', () => {
  it('gives identical per-backend statistics for the same seed, other ones for another seed', async () => {
    const first = await run(42);
    assert.equal(await run(42), first);
    assert.notEqual(await run(43), first);
  });

  it('keeps a service\'s draws when another service is added', async () => {
    // Only the addresses move (they are handed out in creation order); what each backend drew and saw stays.
    assert.equal(await run(42, true, false), await run(42, false, false));
  });

  it('gives each client clock its own random stream on the same virtual time', async () => {
    const sim = new Simulation({ seed: 5 });
    const a = sim.clientClock('a');
    const again = new Simulation({ seed: 5 }).clientClock('a');
    const b = sim.clientClock('b');
    const draws = (clock: { random(): number }): number[] => Array.from({ length: 4 }, () => clock.random());
    const fromA = draws(a);
    assert.deepEqual(fromA, draws(again));
    assert.notDeepEqual(fromA, draws(b));
    let fired = -1;
    b.setTimeout(() => {
      fired = sim.now();
    }, 25);
    await sim.run(100);
    assert.equal(fired, 25);
    assert.equal(a.now(), 100);
    assert.throws(() => sim.clientClock(''), { code: 'ERR_INVALID_CONFIG' });
  });

  it('gives every backend its own loopback address, in creation order', () => {
    const sim = new Simulation();
    const a = sim.service('a', { instances: 2 });
    const b = sim.service('b', { instances: [{ zone: 'z' }] });
    assert.deepEqual(sim.backends().map((backend) => backend.id), ['127.1.0.1:8080', '127.1.0.2:8080', '127.1.0.3:8080']);
    assert.deepEqual([a.backend(1).service, b.backend(0).zone], ['a', 'z']);
    assert.equal(simAddress(255), '127.1.1.0');
    assert.equal(simAddress(70_000), '127.2.17.113');
    assert.throws(() => a.backend(2), { code: 'ERR_INVALID_CONFIG' });
  });

  it('runs a timeline: behaviour changes, down resets what the backend held, up serves again', async () => {
    const sim = new Simulation();
    const svc = sim.service('svc', {
      instances: 2,
      behaviour: { latency: 100 },
      timeline: [
        { at: 50, backends: [0], down: true },
        { at: 300, backends: [0], up: true },
        { at: 300, backends: 'all', set: { latency: 10 } },
      ],
    });
    const caller = client('svc').discovery(svc.resolver).transport(sim.transport).clock(sim.clock).balancer(roundRobin()).retry(false).build();
    const results = fireAt(sim, caller, [0, 0, 0, 0, 100, 100, 100, 100, 400, 400, 400, 400]);
    await sim.run(1_000);
    const byTime = (start: number): string[] => results.filter((r) => r.startedAt === start).map((r) => r.status === undefined ? String((r.error?.details as { reason?: unknown }).reason) : String(r.status)).sort();
    // At 0 both are up: the calls backend 0 held reset when it goes down at 50.
    assert.deepEqual(byTime(0), ['200', '200', 'reset', 'reset']);
    // At 100 it refuses connections.
    assert.deepEqual(byTime(100), ['200', '200', 'connect', 'connect']);
    assert.deepEqual(byTime(400), ['200', '200', '200', '200']);
    for (const result of results.filter((r) => r.startedAt === 400)) assert.equal(result.endedAt - result.startedAt, 10);
    assert.ok(svc.backend(0).isUp);
    await closeInSim(sim, caller);
  });

  it('refuses bad options with ERR_INVALID_CONFIG naming them', () => {
    const sim = new Simulation();
    const names = (run: () => unknown, option: string, hint?: string): void => {
      assert.throws(run, (error: unknown) => {
        assert.ok(isMeshkitError(error, 'ERR_INVALID_CONFIG'), String(error));
        assert.equal((error.details as { option?: string }).option, option);
        if (hint !== undefined) assert.match(error.message, new RegExp(`did you mean \`${hint}\``));
        return true;
      });
    };
    names(() => new Simulation({ sed: 1 } as never), 'simulation.sed', 'seed');
    names(() => new Simulation({ bucketMs: 0 }), 'simulation.bucketMs');
    names(() => sim.service('x', { instances: 1, behaviour: { latncy: 5 } as never }), 'service(x).behaviour.latncy', 'latency');
    names(() => sim.service('x', { instances: 1, behaviour: { errorRate: 0.6, resetRate: 0.6 } }), 'service(x).behaviour');
    names(() => sim.service('x', { instances: 1, behaviour: { servers: 0 } }), 'service(x).behaviour.servers');
    names(() => sim.service('x', { instances: 1, behaviour: { latency: { lognormal: { median: 5, p99: 1 } } } }), 'service(x).behaviour.latency.lognormal.p99');
    names(() => sim.service('x', { instances: -1 }), 'service(x).instances');
    names(() => sim.service('x', { instances: [{ wieght: 2 }] as never }), 'service(x).instances[0].wieght', 'weight');
    names(() => sim.service('x', { instances: 2, timeline: [{ at: 5, backends: [2], down: true }] }), 'service(x).timeline[0].backends[0]');
    names(() => sim.service('x', { instances: 2, timeline: [{ at: 5, set: { errorStatus: 700 } }] }), 'service(x).timeline[0].set.errorStatus');
    names(() => sim.service('x', { instances: 2, timeline: [{ at: 5, dwn: true } as never] }), 'service(x).timeline[0].dwn', 'down');
    assert.equal(sim.backends().length, 0, 'a refused service adds nothing');
    sim.service('x', { instances: 1 });
    names(() => sim.service('x', { instances: 1 }), 'service name');
    names(() => sim.service(undefined as never, { instances: 1 }), 'service name');
    const backend = sim.backends()[0]!;
    names(() => backend.set({ blackholeRate: 2 }), 'behaviour.blackholeRate');
    names(() => backend.set({ handler: 'nope' as never }), 'behaviour.handler');
  });
});
