// Two balancers on the same simulated fleet and the same seed: the fleet, the
// load and every random draw of the backends are identical, so any difference
// in the reports is the balancer's doing.
import { client, peakEwma, roundRobin, type BalancerFactory } from '../../src/index.js'; // in your project: from 'meshkit'
import { openLoop, Simulation, SimRecorder, type SimReport } from '../../src/sim/index.js'; // from 'meshkit/sim'

/** What to run. */
export interface CompareOptions {
  /** Seed of every random stream: the same seed, the same run. */
  readonly seed: number;
  /** Simulated seconds of load. */
  readonly seconds: number;
  /** User requests per simulated second (Poisson arrivals). */
  readonly rate: number;
}

export const DEFAULT_OPTIONS: CompareOptions = { seed: 1, seconds: 60, rate: 500 };

/** The balancers compared, by the name each report carries. */
export const BALANCERS: Readonly<Record<string, () => BalancerFactory>> = {
  'round-robin': () => roundRobin(),
  'peak-ewma': () => peakEwma(), // meshkit's default balancer
};

/** Index of the backend that turns slow, and when (simulated ms). */
export const SLOW_BACKEND = 3;
const SLOW_FROM_MS = 10_000;
const SLOW_UNTIL_FROM_END_MS = 10_000;

/** Runs the fleet once with `balancer`; returns its report, named `name`. */
export async function runWith(name: string, balancer: BalancerFactory, options: CompareOptions): Promise<SimReport> {
  const durationMs = options.seconds * 1000;
  const sim = new Simulation({ seed: options.seed });
  // Twelve backends, median 10 ms, 1 % answering 503. One of them answers in
  // about 1.5 s for most of the run: a GC storm, a noisy neighbour.
  const orders = sim.service('orders', {
    instances: 12,
    behaviour: { latency: { lognormal: { median: 10, p99: 80 } }, errorRate: 0.01, errorStatus: 503, servers: 16 },
    timeline: [
      { at: SLOW_FROM_MS, backends: [SLOW_BACKEND], set: { latency: { uniform: { min: 1000, max: 2000 } } } },
      { at: Math.max(SLOW_FROM_MS, durationMs - SLOW_UNTIL_FROM_END_MS), backends: [SLOW_BACKEND], set: { latency: { lognormal: { median: 10, p99: 80 } } } },
    ],
  });
  const web = client('orders')
    .discovery(orders.resolver)
    .transport(sim.transport)
    .clock(sim.clock)
    .balancer(balancer)
    .timeout({ perTry: '250ms', total: '1s' })
    .retry({ attempts: 2 })
    .build();
  const recorder = new SimRecorder(sim.loop, { duration: durationMs, backends: orders.backends });
  // The track's name names the arrivals' random stream (`load:web`): the same in every run, so the same arrivals.
  const track = recorder.track('web', web);
  openLoop(sim.loop, () => web.request({ path: '/' }).then((res) => res.body.dump()), { record: track, rate: options.rate, duration: durationMs });
  recorder.start();
  try {
    await sim.run(durationMs + 2000); // the load, then time for the last requests (1 s deadline) to end
  } finally {
    recorder.stop();
  }
  const closed = web.close();
  await sim.run();
  await closed;
  return recorder.report(name);
}

/** Runs every balancer in `BALANCERS`, one after another (one recorder at a time per process). */
export async function compareBalancers(options: CompareOptions): Promise<SimReport[]> {
  const reports: SimReport[] = [];
  for (const [name, make] of Object.entries(BALANCERS)) reports.push(await runWith(name, make(), options));
  return reports;
}
