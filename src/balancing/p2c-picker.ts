import type { CallContext } from '../core/call-context.js';
import type { Clock } from '../core/clock.js';
import type { Endpoint } from '../core/endpoint.js';
import type { Picker } from './balancer.js';
import type { AliasTable } from './alias-table.js';
import { shouldAvoid, wasTried } from './tried.js';
import { MAX_SAMPLE_ROUNDS, firstUntried } from './uniform-pick.js';

/**
 * Power of d choices (Mitzenmacher; Finagle's P2C, Envoy's least_request,
 * gRPC): sample `choices` random endpoints and take the least loaded. Cost is
 * one random() call for two uniform choices (one more per extra choice, or
 * per weighted sample) and `choices` load reads, whatever the set size.
 * Subclasses say what load means. With two choices the samples are distinct,
 * so the worse of the two is never taken; ties go to the first sample.
 */
export abstract class P2cPicker implements Picker {
  readonly endpoints: readonly Endpoint[];
  protected readonly clock: Clock;
  readonly #choices: number;
  /** Weighted sampling (by `endpoint.weight`) when weights differ; uniform otherwise. */
  readonly #sampler: AliasTable | undefined;

  constructor(endpoints: readonly Endpoint[], clock: Clock, choices: number, sampler?: AliasTable) {
    this.endpoints = endpoints;
    this.clock = clock;
    this.#choices = choices;
    this.#sampler = sampler;
  }

  /** The load of endpoint `index` (lower is better); only its order among endpoints matters. */
  protected abstract load(index: number): number;

  pick(call: CallContext): Endpoint | undefined {
    const endpoints = this.endpoints;
    const count = endpoints.length;
    if (count <= 1) return endpoints[0];
    const tried = shouldAvoid(call.tried, count) ? call.tried : undefined;
    let fallback = -1;
    for (let round = 0; round < MAX_SAMPLE_ROUNDS; round++) {
      // One random number gives both uniform samples: floor(u * n) and, independent of it, the fraction.
      // Each clock.random() call through the interface allocates a boxed double, so draw as few as possible.
      const u = this.clock.random();
      const scaled = u * count;
      const first = this.#sampler === undefined ? Math.floor(scaled) : this.#sampler.sample(u);
      let best = -1;
      let bestLoad = 0;
      for (let c = 0; c < this.#choices; c++) {
        const index = c === 0 ? first : c === 1 && this.#sampler === undefined ? other(first, scaled - first, count) : this.#sample(count);
        if (tried !== undefined && wasTried(tried, endpoints[index] as Endpoint)) continue;
        const load = this.load(index);
        if (best < 0 || load < bestLoad) {
          best = index;
          bestLoad = load;
        }
      }
      if (best >= 0) return endpoints[best];
      fallback = first;
    }
    // Every sample was tried: only when nearly all endpoints were, so this scan is short in practice.
    return firstUntried(endpoints, tried as readonly Endpoint[], fallback) ?? endpoints[fallback];
  }

  /** One more sample, by weight or uniform (with replacement, as Envoy's choice_count). */
  #sample(count: number): number {
    const u = this.clock.random();
    return this.#sampler !== undefined ? this.#sampler.sample(u) : Math.floor(u * count);
  }
}

/** A uniform index other than `first`, from `fraction` in [0, 1). */
function other(first: number, fraction: number, count: number): number {
  const index = Math.floor(fraction * (count - 1));
  return index >= first ? index + 1 : index;
}

/** True when the endpoints do not all have the same weight. */
export function weightsDiffer(endpoints: readonly Endpoint[]): boolean {
  const first = endpoints[0]?.weight;
  for (let i = 1; i < endpoints.length; i++) if ((endpoints[i] as Endpoint).weight !== first) return true;
  return false;
}
