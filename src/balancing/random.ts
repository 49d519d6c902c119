import type { CallContext } from '../core/call-context.js';
import type { Clock } from '../core/clock.js';
import type { Endpoint } from '../core/endpoint.js';
import type { Balancer, BalancerEnvironment, BalancerFactory, Picker } from './balancer.js';
import { uniformPick } from './uniform-pick.js';

class RandomPicker implements Picker {
  readonly endpoints: readonly Endpoint[];
  readonly #clock: Clock;

  constructor(endpoints: readonly Endpoint[], clock: Clock) {
    this.endpoints = endpoints;
    this.#clock = clock;
  }

  pick(call: CallContext): Endpoint | undefined {
    return uniformPick(this.endpoints, call, this.#clock);
  }
}

/**
 * Random: a uniformly random endpoint per attempt, ignoring weights and load
 * (as Envoy's `RANDOM` policy). Stateless, so it needs no feedback and many
 * clients never move in step; with many clients it spreads load about as well
 * as round robin. Retries avoid endpoints the call already tried while others
 * remain. No options.
 */
export function random(): BalancerFactory {
  return Object.freeze({
    name: 'random',
    create(environment: BalancerEnvironment): Balancer {
      return { update: (endpoints) => new RandomPicker(endpoints, environment.clock) };
    },
  });
}
