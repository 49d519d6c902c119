import type { Endpoint } from '../core/endpoint.js';
import type { Balancer, BalancerEnvironment, BalancerFactory, PickArgs, Picker } from './balancer.js';
import { readOptions, type NoOptions } from './options.js';
import { wasTried } from './tried.js';

/** Cycles through endpoints in order; skips ones the call already tried when others remain. */
class RoundRobinPicker implements Picker {
  readonly endpoints: readonly Endpoint[];
  #next: number;

  constructor(endpoints: readonly Endpoint[], start: number) {
    this.endpoints = endpoints;
    this.#next = start;
  }

  pick(args: PickArgs): Endpoint | undefined {
    const endpoints = this.endpoints;
    const count = endpoints.length;
    if (count === 0) return undefined;
    for (let i = 0; i < count; i++) {
      const index = this.#next;
      this.#next = index + 1 === count ? 0 : index + 1;
      const endpoint = endpoints[index] as Endpoint;
      // By id too: a set update between two attempts hands out new objects for the same instances.
      if (args.tried === undefined || !wasTried(args.tried, endpoint)) return endpoint;
    }
    // Every endpoint was tried: any of them is better than failing the retry.
    return endpoints[this.#next];
  }
}

/**
 * Round robin: each endpoint in turn, ignoring weights and load. Each new set
 * starts at a random offset so that many clients do not march in step.
 * No options: any option given is refused with `ERR_INVALID_CONFIG`.
 */
export function roundRobin(options?: NoOptions): BalancerFactory {
  readOptions(options, []);
  return Object.freeze({
    name: 'round-robin',
    create(environment: BalancerEnvironment): Balancer {
      return {
        update: (endpoints) => new RoundRobinPicker(endpoints, Math.floor(environment.clock.random() * endpoints.length)),
      };
    },
  });
}
