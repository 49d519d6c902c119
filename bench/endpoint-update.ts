/**
 * By hand, not part of `npm run bench`: the cost of one discovery update at
 * fleet size. A client (outlier detection with its defaults, and one balancer)
 * over 1,000 endpoints gets a new set that differs by one endpoint each time,
 * as in a rolling restart: odd updates drop the next endpoint, even ones add
 * it back at the end, reusing the same Endpoint objects as discovery does.
 * Prints ns per update (median of rounds) for each balancer.
 *
 *   node .build/bench/endpoint-update.js [balancer,...]   (peakEwma leastRequest roundRobin zoneAware)
 *
 * Environment: UPDATE_ENDPOINTS (1000), UPDATE_COUNT (updates per round, 2000), UPDATE_ROUNDS (5).
 */
import { leastRequest, peakEwma, roundRobin, zoneAware } from '../src/balancing/index.js';
import type { BalancerFactory } from '../src/balancing/balancer.js';
import { client } from '../src/client/builder.js';
import { toEndpoint, type Endpoint } from '../src/core/endpoint.js';
import type { Resolver, ResolverListener } from '../src/discovery/resolver.js';

const BALANCERS: Readonly<Record<string, () => BalancerFactory>> = {
  peakEwma: () => peakEwma(),
  leastRequest: () => leastRequest(),
  roundRobin: () => roundRobin(),
  zoneAware: () => zoneAware({ zone: 'zone-a' }),
};

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  return raw === undefined || raw === '' ? fallback : Number(raw);
}

/** A resolver the bench drives: it keeps its one listener and hands it whatever set it is given. */
class DrivenResolver implements Resolver {
  readonly source = 'bench';
  listener: ResolverListener | undefined = undefined;
  readonly #initial: readonly Endpoint[];

  constructor(initial: readonly Endpoint[]) {
    this.#initial = initial;
  }

  subscribe(listener: ResolverListener): () => void {
    this.listener = listener;
    listener.onUpdate({ endpoints: this.#initial, source: this.source });
    return () => {
      this.listener = undefined;
    };
  }
}

/** The sets of one round: the set after each update (a new frozen array each time, as discovery gives). */
function rollingSets(fleet: readonly Endpoint[], updates: number): (readonly Endpoint[])[] {
  const sets: (readonly Endpoint[])[] = [];
  let current = [...fleet];
  for (let u = 0; u < updates; u++) {
    const target = fleet[Math.floor(u / 2) % fleet.length] as Endpoint;
    current = u % 2 === 0 ? current.filter((e) => e !== target) : [...current, target];
    sets.push(Object.freeze(current));
  }
  return sets;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

async function measure(name: string, factory: BalancerFactory, fleet: readonly Endpoint[], sets: readonly (readonly Endpoint[])[], rounds: number): Promise<number> {
  const resolver = new DrivenResolver(fleet);
  const c = client(`update-${name}`).discovery(resolver).balancer(factory).outlierDetection({}).build();
  const listener = resolver.listener as ResolverListener;
  const perRound: number[] = [];
  for (let round = 0; round < rounds + 1; round++) {
    listener.onUpdate({ endpoints: fleet, source: 'bench' });
    const started = process.hrtime.bigint();
    for (const endpoints of sets) listener.onUpdate({ endpoints, source: 'bench' });
    const elapsed = Number(process.hrtime.bigint() - started);
    if (round > 0) perRound.push(elapsed / sets.length); // round 0 warms up
  }
  await c.close();
  return median(perRound);
}

const size = envInt('UPDATE_ENDPOINTS', 1000);
const updates = envInt('UPDATE_COUNT', 2000);
const rounds = envInt('UPDATE_ROUNDS', 5);
const chosen = process.argv[2] === undefined ? Object.keys(BALANCERS) : process.argv[2].split(',');
const zones = ['zone-a', 'zone-b', 'zone-c'];
const fleet = Object.freeze(Array.from({ length: size }, (_, i) =>
  toEndpoint({ host: `10.0.${Math.floor(i / 250)}.${i % 250}`, port: 8080, zone: zones[i % 3] as string }, 'bench')));
const sets = rollingSets(fleet, updates);
console.log(`endpoint update: ${size} endpoints, ${updates} updates per round (one endpoint out or back), median of ${rounds} rounds`);
for (const name of chosen) {
  const make = BALANCERS[name];
  if (make === undefined) throw new Error(`unknown balancer ${JSON.stringify(name)}; one of ${Object.keys(BALANCERS).join(', ')}`);
  const ns = await measure(name, make(), fleet, sets, rounds);
  console.log(`${name.padEnd(14)} ${Math.round(ns).toLocaleString('en-US').padStart(10)} ns per update`);
}
