/**
 * Speed of the simulator's engine: 100,000 calls (Poisson arrivals, 2,000/s)
 * through one meshkit client with the default stack (peak EWMA, per-try and
 * total timeouts, retries with their budget, outlier detection) over 100
 * simulated backends. Prints calls per wall second, the ratio of simulated to
 * wall time, events run and heap used. A report, never a pass/fail.
 *
 * `node .build/bench/sim-engine.js` (env: SIM_BENCH_CALLS, SIM_BENCH_BACKENDS,
 * SIM_BENCH_CLIENTS (the calls go to them in turn, each on its own clock
 * stream), SIM_BENCH_RATE).
 */
import { performance } from 'node:perf_hooks';
import { client } from '../src/index.js';
import { Simulation } from '../src/sim/simulation.js';

function envNumber(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

export interface SimEngineResult {
  readonly calls: number;
  readonly backends: number;
  readonly clients: number;
  readonly succeeded: number;
  readonly simulatedMs: number;
  readonly wallMs: number;
  readonly callsPerWallSecond: number;
  readonly simulatedPerWall: number;
  readonly events: number;
  readonly heapUsedMb: number;
}

export async function runSimEngine(): Promise<SimEngineResult> {
  const calls = envNumber('SIM_BENCH_CALLS', 100_000);
  const backends = envNumber('SIM_BENCH_BACKENDS', 100);
  const rate = envNumber('SIM_BENCH_RATE', 2000);
  const clientCount = envNumber('SIM_BENCH_CLIENTS', 1);
  const sim = new Simulation({ seed: 1 });
  const service = sim.service('orders', {
    instances: backends,
    behaviour: { latency: { lognormal: { median: 5, p99: 50 } }, errorRate: 0.01, servers: 8 },
    timeline: [{ at: 10_000, backends: [0, 1], set: { latency: 500 } }, { at: 20_000, backends: [2], down: true }],
  });
  const builder = client('orders').discovery(service.resolver).transport(sim.transport)
    .timeout({ perTry: '100ms', total: '1s' })
    .retry({ attempts: 3 })
    .outlierDetection({ consecutiveGatewayFailures: 5 });
  const callers = Array.from({ length: clientCount }, (_, index) => builder.clock(sim.clientClock(`client-${index}`)).build());
  const arrivals = sim.loop.random('arrivals');
  let sent = 0;
  let done = 0;
  let succeeded = 0;
  const onResponse = (response: { statusCode: number; body: { dump(): Promise<unknown> } }): void => {
    done++;
    if (response.statusCode < 500) succeeded++;
    void response.body.dump();
  };
  const onError = (): void => {
    done++;
  };
  // One arrival event at a time: the next is scheduled when this one fires.
  const fire = (): void => {
    (callers[sent % clientCount] as (typeof callers)[number]).request({ path: '/' }).then(onResponse, onError);
    if (++sent < calls) sim.loop.after(-Math.log(1 - arrivals()) * (1000 / rate), fire);
  };
  sim.at(0, fire);
  const started = performance.now();
  while (done < calls) await sim.run(sim.now() + 1000);
  const wallMs = performance.now() - started;
  const simulatedMs = sim.now();
  const closing = Promise.all(callers.map((caller) => caller.close()));
  await sim.run(sim.now() + 60_000);
  await closing;
  const result: SimEngineResult = {
    calls, backends, clients: clientCount, succeeded, simulatedMs, wallMs,
    callsPerWallSecond: Math.round(calls / (wallMs / 1000)),
    simulatedPerWall: Math.round((simulatedMs / wallMs) * 100) / 100,
    events: sim.loop.eventsRun,
    heapUsedMb: Math.round(process.memoryUsage().heapUsed / 1e5) / 10,
  };
  console.log(`sim engine: ${calls} calls from ${clientCount} clients over ${backends} backends in ${(wallMs / 1000).toFixed(2)} s wall`
    + ` (${(simulatedMs / 1000).toFixed(1)} s simulated): ${result.callsPerWallSecond} calls/s, simulated/wall ${result.simulatedPerWall}x,`
    + ` ${result.events} events, ${succeeded} succeeded, heap ${result.heapUsedMb} MB`);
  return result;
}

if (process.argv[1]?.endsWith('sim-engine.js') === true) await runSimEngine();
