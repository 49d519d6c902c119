import type { Endpoint } from '../core/endpoint.js';
import type { Balancer, BalancerEnvironment, BalancerFactory, PickArgs, Picker } from './balancer.js';
import { readOptions, type NoOptions } from './options.js';
import { EdfSchedule } from './edf-schedule.js';
import { shouldAvoid, wasTried } from './tried.js';
import { firstUntried } from './uniform-pick.js';

class WeightedPicker implements Picker {
  readonly endpoints: readonly Endpoint[];
  readonly #schedule: EdfSchedule;

  constructor(endpoints: readonly Endpoint[], random: () => number) {
    this.endpoints = endpoints;
    this.#schedule = new EdfSchedule(endpoints.map((endpoint) => endpoint.weight), random);
  }

  pick(args: PickArgs): Endpoint | undefined {
    const endpoints = this.endpoints;
    const count = endpoints.length;
    if (count <= 1) return endpoints[0];
    const tried = args.tried;
    let endpoint = endpoints[this.#schedule.next()] as Endpoint;
    if (!shouldAvoid(tried, count)) return endpoint;
    // A retry takes the next due untried endpoint; the tried ones just lose their turn. Heavy tried
    // endpoints can be due many times in a row, so after `count` turns scan instead.
    for (let i = 1; i < count && wasTried(tried, endpoint); i++) endpoint = endpoints[this.#schedule.next()] as Endpoint;
    return wasTried(tried, endpoint) ? firstUntried(endpoints, tried, 0) ?? endpoint : endpoint;
  }
}

/**
 * Weighted round robin: endpoint i receives `weight_i / sum(weights)` of the
 * picks, interleaved smoothly (an earliest-deadline-first schedule, as Envoy's
 * weighted round robin; equal weights give plain round robin). Weights come
 * from discovery (`endpoint.weight`, default 1; DNS SRV weights, Consul
 * `Weights.Passing`, ...). Each new set starts every endpoint at a random
 * phase so that many clients do not march in step. Pick cost O(log n), no
 * allocation; ignores load, so prefer `leastRequest()` or `peakEwma()` when
 * instances differ in speed rather than in declared capacity. No options:
 * any option given is refused with `ERR_INVALID_CONFIG`.
 */
export function weighted(options?: NoOptions): BalancerFactory {
  readOptions(options, []);
  return Object.freeze({
    name: 'weighted-round-robin',
    create(environment: BalancerEnvironment): Balancer {
      const clock = environment.clock;
      return { update: (endpoints) => new WeightedPicker(endpoints, () => clock.random()) };
    },
  });
}
