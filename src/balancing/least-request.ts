import type { Endpoint } from '../core/endpoint.js';
import { AliasTable } from './alias-table.js';
import type { Balancer, BalancerEnvironment, BalancerFactory } from './balancer.js';
import { InFlightTracker, type InFlight } from './in-flight.js';
import { integerOption, readOptions } from './options.js';
import { P2cPicker, weightsDiffer } from './p2c-picker.js';
import { PickRandom } from './pick-random.js';
import type { StateSlab } from './state-slab.js';

/** Options of {@link leastRequest}. */
export interface LeastRequestOptions {
  /** Endpoints sampled per pick; the one with the fewest attempts in flight wins. Default 2 (Envoy's `choice_count`). */
  readonly choices?: number;
}

class LeastRequestPicker extends P2cPicker {
  /** In-flight counts by slot, and each endpoint's slot: two compact arrays (see StateSlab). */
  readonly #slab: StateSlab;
  readonly #slots: Int32Array;
  /** 1 / weight per endpoint when weights differ; undefined when they are equal. */
  readonly #inverseWeight: Float64Array | undefined;

  constructor(endpoints: readonly Endpoint[], states: readonly InFlight[], slab: StateSlab, random: PickRandom, choices: number) {
    const weighted = weightsDiffer(endpoints);
    super(endpoints, random, choices, weighted ? new AliasTable(endpoints.map((e) => e.weight)) : undefined);
    this.#slab = slab;
    // Plain loops: `TypedArray.from` with a mapping function runs the iterator protocol and a call per endpoint.
    const slots = new Int32Array(states.length);
    for (let i = 0; i < states.length; i++) slots[i] = (states[i] as InFlight).slot;
    this.#slots = slots;
    this.#inverseWeight = weighted ? inverseWeights(endpoints) : undefined;
  }

  /** Fewer attempts in flight (per unit of weight when weights differ). */
  protected less(a: number, b: number): boolean {
    const counts = this.#slab.values;
    const activeA = counts[this.#slots[a] as number] as number;
    const activeB = counts[this.#slots[b] as number] as number;
    const inverse = this.#inverseWeight;
    return inverse === undefined ? activeA < activeB : activeA * (inverse[a] as number) < activeB * (inverse[b] as number);
  }
}

/** 1 / weight of each endpoint. */
function inverseWeights(endpoints: readonly Endpoint[]): Float64Array {
  const inverse = new Float64Array(endpoints.length);
  for (let i = 0; i < endpoints.length; i++) inverse[i] = 1 / (endpoints[i] as Endpoint).weight;
  return inverse;
}

/**
 * Least request by the power of two choices (Finagle's P2C least-loaded,
 * Envoy's `LEAST_REQUEST`, gRPC): sample `choices` endpoints (default 2) and
 * send to the one with the fewest attempts in flight from this client. Load
 * is counted from the balancer feedback, keyed by `endpoint.id`, so counts
 * survive set updates. A pick costs `choices` draws from the balancer's own
 * random stream (seeded from the clock) and `choices` load reads at any set
 * size, and allocates nothing.
 *
 * When weights differ, samples are drawn in proportion to `endpoint.weight`
 * and compared by in-flight / weight, so idle traffic follows the weights and
 * busy traffic keeps in-flight counts proportional to them. Envoy reaches the
 * same goal with an EDF schedule over `weight / (active + 1)^active_request_bias`;
 * sampling keeps meshkit's pick O(1) (Envoy's own notes suggest it).
 * Throws `ERR_INVALID_CONFIG` naming `balancer.choices` for a bad value.
 */
export function leastRequest(options?: LeastRequestOptions): BalancerFactory {
  const given = readOptions(options, ['choices']);
  const choices = integerOption(given['choices'], 'choices', 2, 100, 2);
  return Object.freeze({
    name: 'least-request',
    create(environment: BalancerEnvironment): Balancer {
      const inFlight = new InFlightTracker();
      const random = PickRandom.from(environment.clock);
      return {
        update: (endpoints) => new LeastRequestPicker(endpoints, inFlight.sync(endpoints), inFlight.slab, random, choices),
        onAttemptStart: (attempt) => inFlight.start(attempt),
        onAttemptEnd: (attempt) => inFlight.end(attempt),
        describe: (endpoint) => {
          const state = inFlight.get(endpoint.id);
          return state === undefined ? undefined : { inFlight: state.active, load: state.active / endpoint.weight };
        },
      };
    },
  });
}
