import type { Endpoint } from '../core/endpoint.js';
import type { Balancer, BalancerEnvironment, BalancerFactory, PickArgs, Picker } from './balancer.js';
import { hashString } from './hash.js';
import { HashRing } from './hash-ring.js';
import { InFlightTracker, type InFlight } from './in-flight.js';
import { invalidConfig } from '../core/errors.js';
import { integerOption, numberOption, readOptions } from './options.js';
import { PickRandom } from './pick-random.js';
import { shouldAvoid, wasTried } from './tried.js';
import { uniformPick } from './uniform-pick.js';

/** Options of {@link ringHash}. */
export interface RingHashOptions {
  /** Fewest points on the ring; more points spread keys more evenly. Default 1024 (Envoy's `minimum_ring_size`). */
  readonly minRingSize?: number;
  /** Most points on the ring (memory: 8 bytes each). Default 8,388,608 (Envoy's `maximum_ring_size`). */
  readonly maxRingSize?: number;
  /**
   * Bounded load (Mirrokni, Thorup and Zadimoghaddam, "Consistent Hashing with
   * Bounded Loads"; Envoy's `hash_balance_factor` / 100): no endpoint takes a
   * new attempt while it has `factor` times the average in flight or more; the
   * key walks on along the ring instead. At least 1; `Infinity` turns it off.
   * Default 1.25.
   */
  readonly hashBalanceFactor?: number;
}

class RingHashPicker implements Picker {
  readonly endpoints: readonly Endpoint[];
  readonly #ring: HashRing;
  readonly #states: readonly InFlight[];
  readonly #inFlight: InFlightTracker;
  readonly #factor: number;
  readonly #random: PickRandom;

  constructor(endpoints: readonly Endpoint[], ring: HashRing, inFlight: InFlightTracker, factor: number, random: PickRandom) {
    this.endpoints = endpoints;
    this.#ring = ring;
    this.#states = inFlight.sync(endpoints);
    this.#inFlight = inFlight;
    this.#factor = factor;
    this.#random = random;
  }

  pick(args: PickArgs): Endpoint | undefined {
    const endpoints = this.endpoints;
    const count = endpoints.length;
    const key = args.hashKey;
    if (key === undefined || count <= 1) return uniformPick(endpoints, args, this.#random);
    const { hashes, owners } = this.#ring;
    const size = hashes.length;
    const start = this.#ring.position(hashString(key));
    const tried = shouldAvoid(args.tried, count) ? args.tried : undefined;
    // The paper's capacity: ceil(factor * (in flight + this one) / endpoints).
    const capacity = this.#factor === Infinity ? Infinity : Math.ceil((this.#factor * (this.#inFlight.total + 1)) / count);
    let position = start;
    for (let step = 0; step < size; step++) {
      const owner = owners[position] as number;
      if ((this.#states[owner] as InFlight).active < capacity
        && (tried === undefined || !wasTried(tried, endpoints[owner] as Endpoint))) return endpoints[owner];
      position = position + 1 === size ? 0 : position + 1;
    }
    return endpoints[owners[start] as number];
  }
}

/**
 * Consistent hashing on a ring (Karger et al.; Envoy's `RING_HASH`) by the
 * call's routing key (`key` in the call options, `args.hashKey`): equal keys go
 * to the same endpoint, and when an endpoint leaves only its keys move (about
 * 1/N of them). Calls without a key go to a random endpoint. Each endpoint
 * owns points in proportion to its weight; the density (points per unit of
 * weight) is chosen for about twice `minRingSize` points and kept while the
 * ring stays within [minRingSize, maxRingSize], because changing it would
 * move keys between endpoints that stayed. Every endpoint gets at least one
 * point.
 *
 * With bounded load (`hashBalanceFactor`, default 1.25) a key whose endpoint
 * is busy walks on to the next one with room, so a hot key cannot overload
 * one instance; loads are this client's attempts in flight (shown per
 * endpoint by `client.endpoints().load`). A pick is one hash of the key and a
 * binary search over the ring, and allocates nothing.
 *
 * Why a ring rather than Maglev: removing an endpoint moves exactly its keys
 * (Maglev's table moves a few more), the bounded-load walk follows the ring
 * naturally, and lookups cost a binary search (about 11 steps at the default
 * size), not a scan.
 * Throws `ERR_INVALID_CONFIG` naming `balancer.<option>` for a bad value.
 */
export function ringHash(options?: RingHashOptions): BalancerFactory {
  const given = readOptions(options, ['minRingSize', 'maxRingSize', 'hashBalanceFactor']);
  const minRingSize = integerOption(given['minRingSize'], 'minRingSize', 1, 8_388_608, 1024);
  const maxRingSize = integerOption(given['maxRingSize'], 'maxRingSize', 1, 8_388_608, 8_388_608);
  if (maxRingSize < minRingSize) {
    throw invalidRange(minRingSize, maxRingSize);
  }
  const factor = numberOption(given['hashBalanceFactor'], 'hashBalanceFactor', 1, 1.25, true);
  return Object.freeze({
    name: 'ring-hash',
    create(environment: BalancerEnvironment): Balancer {
      const inFlight = new InFlightTracker();
      const random = PickRandom.from(environment.clock);
      let perWeight = 0;
      return {
        update(endpoints) {
          let total = 0;
          for (const endpoint of endpoints) total += endpoint.weight;
          const size = perWeight * total;
          if (total > 0 && (size < minRingSize || size > maxRingSize)) perWeight = Math.min(2 * minRingSize, maxRingSize) / total;
          const ring = new HashRing(endpoints, (endpoint) => Math.max(1, Math.round(endpoint.weight * perWeight)));
          return new RingHashPicker(endpoints, ring, inFlight, factor, random);
        },
        onAttemptStart: (attempt) => inFlight.start(attempt),
        onAttemptEnd: (attempt) => inFlight.end(attempt),
        // In flight is what bounded load compares, so status pages show it.
        describe: (endpoint) => {
          const state = inFlight.get(endpoint.id);
          return state === undefined ? undefined : { inFlight: state.active };
        },
      };
    },
  });
}

function invalidRange(min: number, max: number): Error {
  return invalidConfig('balancer.maxRingSize', `an integer >= minRingSize (${min})`, max);
}
