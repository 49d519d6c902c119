import type { Clock } from '../core/clock.js';
import type { Endpoint } from '../core/endpoint.js';
import { AliasTable } from './alias-table.js';
import type { Balancer, BalancerEnvironment, BalancerFactory } from './balancer.js';
import { InFlightTracker, type InFlight } from './in-flight.js';
import { integerOption, readOptions } from './options.js';
import { P2cPicker, weightsDiffer } from './p2c-picker.js';

/** Options of {@link leastRequest}. */
export interface LeastRequestOptions {
  /** Endpoints sampled per pick; the one with the fewest attempts in flight wins. Default 2 (Envoy's `choice_count`). */
  readonly choices?: number;
}

class LeastRequestPicker extends P2cPicker {
  readonly #states: readonly InFlight[];
  /** 1 / weight per endpoint when weights differ; undefined when they are equal. */
  readonly #inverseWeight: Float64Array | undefined;

  constructor(endpoints: readonly Endpoint[], states: readonly InFlight[], clock: Clock, choices: number) {
    const weighted = weightsDiffer(endpoints);
    super(endpoints, clock, choices, weighted ? new AliasTable(endpoints.map((e) => e.weight)) : undefined);
    this.#states = states;
    this.#inverseWeight = weighted ? Float64Array.from(endpoints, (e) => 1 / e.weight) : undefined;
  }

  protected load(index: number): number {
    const active = (this.#states[index] as InFlight).active;
    return this.#inverseWeight === undefined ? active : active * (this.#inverseWeight[index] as number);
  }
}

/**
 * Least request by the power of two choices (Finagle's P2C least-loaded,
 * Envoy's `LEAST_REQUEST`, gRPC): sample `choices` endpoints (default 2) and
 * send to the one with the fewest attempts in flight from this client. Load
 * is counted from the balancer feedback, keyed by `endpoint.id`, so counts
 * survive set updates. A pick costs `choices` random numbers at any set size.
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
      return {
        update: (endpoints) => new LeastRequestPicker(endpoints, inFlight.sync(endpoints), environment.clock, choices),
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
