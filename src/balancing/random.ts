import type { Endpoint } from '../core/endpoint.js';
import type { Balancer, BalancerEnvironment, BalancerFactory, PickArgs, Picker } from './balancer.js';
import { readOptions, type NoOptions } from './options.js';
import { PickRandom } from './pick-random.js';
import { uniformPick } from './uniform-pick.js';

class RandomPicker implements Picker {
  readonly endpoints: readonly Endpoint[];
  readonly #random: PickRandom;

  constructor(endpoints: readonly Endpoint[], random: PickRandom) {
    this.endpoints = endpoints;
    this.#random = random;
  }

  pick(args: PickArgs): Endpoint | undefined {
    return uniformPick(this.endpoints, args, this.#random);
  }
}

/**
 * Random: a uniformly random endpoint per attempt, ignoring weights and load
 * (as Envoy's `RANDOM` policy). Stateless, so it needs no feedback and many
 * clients never move in step; with many clients it spreads load about as well
 * as round robin. Retries avoid endpoints the call already tried while others
 * remain. A pick is one draw from the balancer's own random stream (seeded
 * from the clock) and allocates nothing. No options: any option given is
 * refused with `ERR_INVALID_CONFIG`.
 */
export function random(options?: NoOptions): BalancerFactory {
  readOptions(options, []);
  return Object.freeze({
    name: 'random',
    create(environment: BalancerEnvironment): Balancer {
      const stream = PickRandom.from(environment.clock);
      return { update: (endpoints) => new RandomPicker(endpoints, stream) };
    },
  });
}
