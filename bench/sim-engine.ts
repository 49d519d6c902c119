/**
 * Speed of the simulator's engine: `calls` calls (Poisson arrivals at `rate`
 * per simulated second) from `clients` meshkit clients, each with the default
 * stack (peak EWMA, per-try and total timeouts, retries with their budget,
 * outlier detection) over `backends` simulated backends. Measures calls per
 * wall second, the ratio of simulated to wall time, events run per wall
 * second and the peak heap, sampled once per simulated second. A report,
 * never a pass/fail.
 *
 * `npm run bench -- sim` runs it (bench/sim.ts): a short case and the
 * issue's full case, sizes from the environment. Each client has its own
 * clock stream (`sim.clientClock`), and the arrivals go to them in turn.
 */
import { performance } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { client } from '../src/index.js';
import { Simulation } from '../src/sim/simulation.js';

/** The size of one engine run. */
export interface SimEngineOptions {
  /** Calls sent in all (one arrival each). */
  readonly calls: number;
  /** Simulated backends of the one service. */
  readonly backends: number;
  /** meshkit clients; arrivals go to them in turn. */
  readonly clients: number;
  /** Mean arrivals per simulated second (all clients together). */
  readonly rate: number;
}

/** What one engine run measured. Memory figures are MB (2^20 bytes), rounded to 0.1. */
export interface SimEngineResult extends SimEngineOptions {
  /** Calls that ended in a response below 500. */
  readonly succeeded: number;
  /** Virtual time simulated, ms: whole seconds, up to the end of the second in which the last call ended. */
  readonly simulatedMs: number;
  /** Wall time of those simulated seconds, ms (closing the clients is not counted). */
  readonly wallMs: number;
  readonly callsPerWallSecond: number;
  /** simulatedMs / wallMs, rounded to 0.01. */
  readonly simulatedPerWall: number;
  /** Events the SimLoop ran (arrivals, latencies, timers, timeline changes). */
  readonly events: number;
  readonly eventsPerWallSecond: number;
  /** Highest V8 heap used (`used_heap_size`) among the samples. */
  readonly peakHeapUsedMb: number;
  /** Highest heap V8 had reserved (`total_heap_size`) among the samples. */
  readonly peakHeapTotalMb: number;
  /** Highest resident set size of the process among the samples. */
  readonly peakRssMb: number;
  /** Heap samples taken: one per simulated second, and one at the start. */
  readonly heapSamples: number;
  /** Heap used after a full GC once the last call ended, the simulation and its clients still alive: what the run keeps, not its garbage. NaN without `collectGarbage`. */
  readonly liveHeapEndMb: number;
}

const MB = 1024 * 1024;
const mb = (bytes: number): number => Math.round((bytes / MB) * 10) / 10;

/** Peaks of heap and RSS over the samples taken. */
class MemoryPeaks {
  heapUsed = 0;
  heapTotal = 0;
  rss = 0;
  samples = 0;

  sample(): void {
    const heap = getHeapStatistics();
    const rss = process.memoryUsage.rss();
    if (heap.used_heap_size > this.heapUsed) this.heapUsed = heap.used_heap_size;
    if (heap.total_heap_size > this.heapTotal) this.heapTotal = heap.total_heap_size;
    if (rss > this.rss) this.rss = rss;
    this.samples++;
  }
}

/**
 * Runs the engine once at `options`' size and returns what it measured.
 * `collectGarbage` (a full GC, e.g. `gc` under `--expose-gc`) is called once
 * after the last call, outside the timed part, for `liveHeapEndMb`.
 */
export async function runSimEngine(options: SimEngineOptions, collectGarbage?: () => void): Promise<SimEngineResult> {
  const { calls, backends, rate, clients: clientCount } = options;
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
  const memory = new MemoryPeaks();
  memory.sample();
  const started = performance.now();
  while (done < calls) {
    await sim.run(sim.now() + 1000);
    memory.sample();
  }
  const wallMs = performance.now() - started;
  const simulatedMs = sim.now();
  const events = sim.loop.eventsRun;
  collectGarbage?.();
  const liveHeapEnd = collectGarbage === undefined ? Number.NaN : getHeapStatistics().used_heap_size;
  const closing = Promise.all(callers.map((caller) => caller.close()));
  await sim.run(sim.now() + 60_000);
  await closing;
  const result: SimEngineResult = {
    calls, backends, clients: clientCount, rate, succeeded, simulatedMs, wallMs: Math.round(wallMs),
    callsPerWallSecond: Math.round(calls / (wallMs / 1000)),
    simulatedPerWall: Math.round((simulatedMs / wallMs) * 100) / 100,
    events,
    eventsPerWallSecond: Math.round(events / (wallMs / 1000)),
    peakHeapUsedMb: mb(memory.heapUsed),
    peakHeapTotalMb: mb(memory.heapTotal),
    peakRssMb: mb(memory.rss),
    heapSamples: memory.samples,
    liveHeapEndMb: mb(liveHeapEnd),
  };
  return result;
}
